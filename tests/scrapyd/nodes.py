"""Real Scrapyd nodes for tests: `scrapyd` processes on 127.0.0.1, each on its own port
with its own folder (eggs, logs, item feeds, queue), basic auth on, polling its queue
often so that jobs start quickly."""

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from core.checked import free_port

USERNAME = "crossings"
PASSWORD = "node-secret"
START_DEADLINE = 30.0


class ScrapydNode:
    def __init__(self, folder: Path, *, password: str = PASSWORD) -> None:
        self.folder = folder
        self.port = free_port()
        self.password = password
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            "bind_address = 127.0.0.1\n"
            f"http_port = {self.port}\n"
            f"username = {USERNAME}\n"
            f"password = {password}\n"
            "eggs_dir = eggs\nlogs_dir = logs\nitems_dir = items\ndbs_dir = dbs\n"
            "jobs_to_keep = 100\nfinished_to_keep = 1000\npoll_interval = 0.2\nmax_proc = 4\n"
        )
        self.log = folder / "scrapyd.out"
        env = {key: value for key, value in os.environ.items() if not key.startswith("SCRAPYD_")}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "scrapyd", "--nodaemon", "--pidfile=", "-l", "-"],
                cwd=folder,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killing it takes its crawls
            )
        self._wait_ready()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, endpoint: str) -> dict:
        request = urllib.request.Request(f"{self.url}/{endpoint}")
        token = base64.b64encode(f"{USERNAME}:{self.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def feed(self, items_url: str) -> bytes:
        request = urllib.request.Request(self.url + items_url)
        token = base64.b64encode(f"{USERNAME}:{self.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.read()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"scrapyd exited:\n{self.log.read_text()}")
            try:
                self.call("daemonstatus.json")
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        raise RuntimeError(f"scrapyd did not answer:\n{self.log.read_text()}")

    def kill(self) -> None:
        """What a machine dying does: the node and its crawl processes, at once."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
