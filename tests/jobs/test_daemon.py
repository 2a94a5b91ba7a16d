"""The real daemon process (`crossings run`) against a real local site: runs happen on
schedule, due sources share a child, SIGTERM and kill -9 mid-crawl leave a consistent
database, catch-up runs each overdue source once, /healthz and /metrics answer."""

import http.server
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

DEADLINE = 45.0  # seconds any awaited condition may take before the test fails
DAEMON = [sys.executable, "-m", "jobs"]


class Site(http.server.ThreadingHTTPServer):
    """Pages for the spiders; /slow/... answers only when `release` is set (or after a
    minute), so a crawl can be caught in the middle."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SiteHandler)
        self.release = threading.Event()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class SiteHandler(http.server.BaseHTTPRequestHandler):
    server: Site

    def do_GET(self) -> None:
        if self.path.startswith("/slow"):
            self.server.release.wait(60)
        body = b"<html><body><table><tr><th>Year</th><th>Cases</th></tr>"
        body += b"<tr><td>2024</td><td>1,234</td></tr></table></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site():
    server = Site()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver(http.server.ThreadingHTTPServer):
    """A webhook receiver: every POSTed alert is kept in `received`."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.received: list[dict] = []

    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class ReceiverHandler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver():
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


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


@pytest.fixture
def start(tmp_path):
    started: list[RunningDaemon] = []

    def start_daemon(config: Path, *options: str) -> RunningDaemon:
        daemon = RunningDaemon(config, *options)
        started.append(daemon)
        return daemon

    yield start_daemon
    for daemon in started:
        if daemon.process.poll() is None:
            os.killpg(daemon.process.pid, signal.SIGKILL)
            daemon.process.wait()


def by_source(runs: list[dict], source: str) -> list[dict]:
    return [run for run in runs if run["source"] == source]


def test_sources_run_on_their_schedules_and_health_and_metrics_answer(tmp_path, site, start):
    config = write_config(
        tmp_path, {"fast": (site.url("/a"), "2s"), "other": (site.url("/b"), "2s")}
    )
    daemon = start(config)
    daemon.wait_for(
        "two scheduled runs of each source",
        lambda: all(
            len([r for r in by_source(daemon.runs(), name) if r["trigger"] == "schedule"]) >= 2
            for name in ("fast", "other")
        ),
    )
    status, body = daemon.get("/healthz")
    health = json.loads(body)
    assert status == 200, health
    assert health["scheduler"]["running"] and health["database"]["writable"]
    assert health["sources"]["fast"]["status"] in ("ok", "running")
    status, body = daemon.get("/metrics")
    text = body.decode()
    assert status == 200
    assert 'crossings_runs{status="ok"}' in text
    assert "crossings_scheduler_running 1.0" in text
    assert 'crossings_outbox_messages{status="dead"} 0.0' in text
    assert "crossings_crawl_duration_seconds_count" in text
    assert daemon.stop() == 0
    assert "fast ok new=" in daemon.log.read_text()  # one summary line per run


def test_sources_due_together_are_crawled_by_one_child(tmp_path, site, start):
    sources = {f"s{i}": (site.url(f"/page{i}"), "1h") for i in range(5)}
    daemon = start(write_config(tmp_path, sources))
    daemon.wait_for(
        "every source crawled once",
        lambda: len([r for r in daemon.runs() if r["finished_at"]]) == 5,
    )
    runs = daemon.runs()
    assert {run["trigger"] for run in runs} == {"catch-up"}
    assert len({run["pid"] for run in runs}) == 1, runs
    assert daemon.stop() == 0


def test_sigterm_mid_crawl_exits_0_and_leaves_a_consistent_database(tmp_path, site, start):
    config = write_config(
        tmp_path, {"slow": (site.url("/slow"), "2s"), "quick": (site.url("/q"), "1h")}
    )
    daemon = start(config)
    daemon.wait_for(
        "the slow crawl in progress and due again meanwhile",
        lambda: (
            any(r["status"] == "running" for r in by_source(daemon.runs(), "slow"))
            and "slow is due again while still running" in daemon.log.read_text()
        ),
    )
    assert daemon.stop(signal.SIGTERM) == 0
    runs = daemon.runs()
    assert not [run for run in runs if run["status"] == "running"], runs
    assert [run["status"] for run in by_source(runs, "slow")] == ["interrupted"]  # one at a time
    conn = sqlite3.connect(daemon.database)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_a_second_signal_stops_at_once(tmp_path, site, start):
    config = write_config(tmp_path, {"slow": (site.url("/slow"), "1h")}, shutdown_grace=120)
    daemon = start(config)
    daemon.wait_for(
        "the slow crawl to be in progress",
        lambda: any(r["status"] == "running" for r in by_source(daemon.runs(), "slow")),
    )
    daemon.process.send_signal(signal.SIGTERM)
    daemon.wait_for("/healthz to say it is stopping", lambda: daemon.get("/healthz")[0] == 503)
    assert json.loads(daemon.get("/healthz")[1])["scheduler"]["stopping"] is True
    assert daemon.stop(signal.SIGTERM) == 1  # well before the 120 s grace
    assert [r["status"] for r in daemon.runs()] == ["interrupted"]


ALERT_ON_QUICK = """
[channels.hook]
kind = "webhook"
url = "{url}"

[rules.quick-high]
kind = "threshold"
metric = "quick.*"
above = 1000
channels = ["hook"]
"""


def test_after_kill_9_the_cut_off_run_is_marked_only_it_is_caught_up_and_no_alert_repeats(
    tmp_path, site, receiver, start
):
    quick = {"quick": (site.url("/q"), "1h")}
    alerting = ALERT_ON_QUICK.format(url=receiver.url())
    config = write_config(tmp_path, quick, extra=alerting)
    first = start(config)
    first.wait_for("quick's alert delivered", lambda: len(receiver.received) == 1)
    assert first.stop() == 0

    config = write_config(tmp_path, {**quick, "slow": (site.url("/slow"), "1h")}, extra=alerting)
    second = start(config)
    second.wait_for(
        "slow in progress",
        lambda: [r["status"] for r in by_source(second.runs(), "slow")] == ["running"],
    )
    second.kill_everything()

    site.release.set()  # the slow page answers at once from now on
    third = start(config)
    third.wait_for(
        "slow caught up",
        lambda: [r["status"] for r in by_source(third.runs(), "slow")] == ["interrupted", "ok"],
    )
    assert third.stop() == 0  # waits for the rules and flushes the outbox
    slow = by_source(third.runs(), "slow")
    assert slow[0]["reason"]  # says why it was cut off
    assert slow[1]["trigger"] == "catch-up"
    assert len(by_source(third.runs(), "quick")) == 1  # it ran within the hour: not overdue
    assert len(receiver.received) == 1, receiver.received


def test_a_digest_goes_out_on_its_schedule(tmp_path, site, receiver, start):
    digest = f"""
[channels.hook]
kind = "webhook"
url = "{receiver.url()}"

[digests.often]
schedule = "3s"
channels = ["hook"]
title = "Digest for the newsroom"
"""
    config = write_config(tmp_path, {"quick": (site.url("/q"), "1h")}, extra=digest)
    daemon = start(config)
    daemon.wait_for("the digest delivered", lambda: len(receiver.received) >= 1)
    assert receiver.received[0]["subject"] == "Digest for the newsroom"
    assert daemon.stop() == 0


def test_an_address_in_use_is_one_clear_line_and_exit_1(tmp_path, site):
    config = write_config(tmp_path, {"quick": (site.url("/q"), "1h")})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*DAEMON, "--config", str(config), "run", "--listen", f"127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=DEADLINE,
        )  # fmt: skip
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_failed_source_is_retried_soon_and_caught_up_after_a_restart(tmp_path, site, start):
    closed = free_port()  # nobody listens: the crawl fails with "connection refused"
    sources = {"down": (f"http://127.0.0.1:{closed}/table", "1h"), "up": (site.url("/u"), "1h")}
    config = write_config(tmp_path, sources)
    first = start(config)
    first.wait_for("down failed", lambda: [r["status"] for r in by_source(first.runs(), "down")]
                   == ["failed"])  # fmt: skip
    first.wait_for("the retry planned", lambda: "down failed 1 time(s) in a row: trying again"
                   in first.log.read_text())  # fmt: skip
    listed = subprocess.run(
        [*DAEMON, "--config", str(config), "sources", "--json"], capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    rows = {row["source"]: row for row in json.loads(listed)}
    failed = by_source(first.runs(), "down")[0]
    finished = datetime.fromisoformat(failed["finished_at"].replace("Z", "+00:00"))
    retry = datetime.fromisoformat(rows["down"]["retry_at"].replace("Z", "+00:00"))
    assert retry == finished + timedelta(minutes=5)  # the first wait, well before the hour
    assert rows["down"]["retry_at"] < rows["down"]["next_run"]
    assert rows["up"]["retry_at"] is None
    assert first.stop() == 0

    second = start(config)  # within the hour: only the source that failed is overdue
    second.wait_for("down tried again at start-up", lambda: len(by_source(second.runs(), "down"))
                    == 2)  # fmt: skip
    assert second.stop() == 0
    assert by_source(second.runs(), "down")[1]["trigger"] == "catch-up"
    assert len(by_source(second.runs(), "up")) == 1
