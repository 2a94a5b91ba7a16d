"""The real daemon (`crossings run`) as the daemon tests drive it: a local site whose
/slow pages wait until released, a webhook receiver, a config of table sources, and the
running process with its log, runs and web endpoint. The fixtures are in conftest.py."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from core.checked import free_port
from tests.serving import LocalServer, QuietHandler

DEADLINE = 45.0  # seconds any awaited condition may take before the test fails
DAEMON = [sys.executable, "-m", "jobs"]


class Site(LocalServer):
    """Pages for the spiders; /slow/... answers only when `release` is set (or after a
    minute), so a crawl can be caught in the middle."""

    def __init__(self) -> None:
        super().__init__(SiteHandler)
        self.release = threading.Event()

    def url(self, path: str) -> str:
        return self.base_url + path


class SiteHandler(QuietHandler):
    server: Site

    def do_GET(self) -> None:
        if self.path.startswith("/slow"):
            self.server.release.wait(60)
        body = b"<html><body><table><tr><th>Year</th><th>Cases</th></tr>"
        body += b"<tr><td>2024</td><td>1,234</td></tr></table></body></html>"
        self.reply(200, body, "text/html")


class Receiver(LocalServer):
    """A webhook receiver: every POSTed alert is kept in `received`; by default it
    answers 204 at once (another handler may answer otherwise)."""

    def __init__(self, handler: "type[ReceiverHandler] | None" = None) -> None:
        super().__init__(handler or ReceiverHandler)
        self.received: list[dict] = []

    def url(self) -> str:
        return self.base_url + "/hook"


class ReceiverHandler(QuietHandler):
    server: Receiver

    def do_POST(self) -> None:
        self.keep()
        self.send_response(204)
        self.end_headers()

    def keep(self) -> None:
        """Keep the POSTed alert in the receiver's `received`."""
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(json.loads(body))


def wait_until(what: str, condition: Callable[[], bool]) -> None:
    """Poll `condition` until it holds, for at most DEADLINE seconds."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def write_config(
    directory: Path, sources: dict[str, tuple[str, str]], extra: str = "", **settings
) -> Path:
    """sources: name -> (url, schedule); `extra` is more TOML (rules, channels)."""
    settings = {"shutdown_grace": 1, "download_delay": 0, "obey_robots_txt": False,
                "retries": 0, **settings}  # fmt: skip
    lines = ["[settings]", 'database = "data/crossings.db"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    for name, (url, schedule) in sources.items():
        lines += [f"[sources.{name}]", 'kind = "table"', f'url = "{url}"']
        lines += [f'schedule = "{schedule}"', 'periods = "rows"', f'metric = "{name}.{{column}}"']
    path = directory / "crossings.toml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


class RunningDaemon:
    def __init__(self, config: Path, *options: str) -> None:
        self.config = config
        self.database = config.parent / "data" / "crossings.db"
        self.port = free_port()
        self.log = config.parent / "daemon.log"
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [
                    *DAEMON,
                    "--config",
                    str(config),
                    "run",
                    "--listen",
                    f"127.0.0.1:{self.port}",
                    *options,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill -9 takes its children
            )

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def runs(self) -> list[dict]:
        if not self.database.exists():
            return []
        conn = sqlite3.connect(f"{self.database.as_uri()}?mode=ro", uri=True, timeout=15)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in conn.execute("SELECT * FROM runs ORDER BY id")]
        except sqlite3.OperationalError:  # not created yet
            return []
        finally:
            conn.close()

    def wait_for(self, what: str, condition) -> None:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                pytest.fail(f"daemon exited ({self.process.returncode}) waiting for {what}:\n"
                            + self.log.read_text())  # fmt: skip
            time.sleep(0.2)
        pytest.fail(f"timed out waiting for {what}:\n{self.log.read_text()}")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            pytest.fail(f"daemon did not stop:\n{self.log.read_text()}")

    def kill_everything(self) -> None:
        """What a power cut or the OOM killer does: the daemon and its children, at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=DEADLINE)


def by_source(runs: list[dict], source: str) -> list[dict]:
    return [run for run in runs if run["source"] == source]
