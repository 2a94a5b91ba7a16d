"""The real daemon process under faults: a webhook that drips its answer holds neither
crawls nor rules and is stopped truthfully at shutdown; rules are evaluated at start-up
and on a timer over what was stored without alerts; after `kill -9` of the daemon its
crawl child dies with it, and a source is never crawled by two processes at once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.status import RunStatus
from storage import Run, Store
from tests.commands import crossings
from tests.jobs.daemon import (
    DEADLINE,
    Receiver,
    ReceiverHandler,
    by_source,
    wait_until,
    write_config,
)
from tests.serving import running

pytestmark = pytest.mark.slow


class DripHandler(ReceiverHandler):
    def do_POST(self) -> None:
        self.keep()
        self.send_response(200)
        self.send_header("Content-Length", "120")
        self.end_headers()
        try:
            for _ in range(120):
                self.wfile.write(b".")
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            pass


@pytest.fixture
def dripping():
    """A receiver that takes every POST, then answers one byte a second for two minutes."""
    with running(Receiver(DripHandler)) as server:
        yield server


ALERT = """
[channels.hook]
kind = "webhook"
url = "{url}"
timeout = {timeout}

[rules.high]
kind = "threshold"
metric = "{metric}"
above = 1000
channels = ["hook"]
"""


def finished_runs(daemon, source: str) -> int:
    return len([r for r in by_source(daemon.runs(), source) if r["finished_at"]])


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_dripping_webhook_holds_no_crawl_and_shutdown_says_what_it_stopped(
    tmp_path, site, dripping, start
):
    alert = ALERT.format(url=dripping.url(), timeout=100, metric="fast.*")
    daemon = start(write_config(tmp_path, {"fast": (site.url("/a"), "2s")}, extra=alert))
    daemon.wait_for("the alert posted", lambda: len(dripping.received) == 1)
    crawled = finished_runs(daemon, "fast")
    daemon.wait_for(  # while the receiver is still dripping its answer
        "two more crawls during the delivery",  # it lasts 100 s: crawls held would wait
        lambda: finished_runs(daemon, "fast") >= crawled + 2,
    )
    assert daemon.stop() == 0
    log = daemon.log.read_text()
    assert "stopped cleanly" not in log
    last = log.strip().splitlines()[-1]
    assert "these processes had to be stopped:" in last and "alert delivery (pid" in last
    deadline = time.monotonic() + DEADLINE
    while group_alive(daemon.process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not group_alive(daemon.process.pid), "a process of the daemon outlived it"
    assert len(dripping.received) == 1


def crawl_by_hand(config, *args: str) -> subprocess.CompletedProcess:
    return crossings(config, "crawl", *args, timeout=DEADLINE)


def test_values_stored_without_alerts_are_evaluated_at_start_up_and_on_the_timer(
    tmp_path, site, receiver, start
):
    sources = {"early": (site.url("/e"), "1h"), "later": (site.url("/l"), "1h")}
    config = write_config(tmp_path, sources, extra=ALERT.format(
        url=receiver.url(), timeout=5, metric="*.cases"))  # fmt: skip
    assert crawl_by_hand(config, "early", "later", "--no-alerts").returncode == 0
    daemon = start(config)  # both ran within the hour: no crawl, no catch-up

    def alerted() -> set[str]:  # alerts raised together arrive as one grouped message
        data = [m["data"] for m in receiver.received]
        return {e["metric"] for d in data for e in d.get("events", [d])}

    daemon.wait_for("the alerts for early and later", lambda: len(alerted()) == 2)
    assert alerted() == {"early.cases", "later.cases"}
    assert len(daemon.runs()) == 2  # evaluated what was stored; crawled nothing

    alert = ALERT.format(url=receiver.url(), timeout=5, metric="*.cases")
    config = write_config(tmp_path, {**sources, "third": (site.url("/t"), "1h")}, extra=alert)
    result = crawl_by_hand(config, "third", "--no-alerts")  # while the daemon runs
    assert result.returncode == 0, result.stderr
    daemon.wait_for("the timer's evaluation", lambda: "third.cases" in alerted())
    assert daemon.stop() == 0


def gone(pid: int) -> bool:
    """Ended (a zombie nobody reaped yet counts: in a container, pid 1 may never reap)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_after_kill_9_of_the_daemon_its_crawl_child_dies_and_one_crawl_at_a_time(
    tmp_path, site, start
):
    config = write_config(tmp_path, {"slow": (site.url("/slow"), "1h")})
    first = start(config)
    first.wait_for("slow in progress", lambda: [r["status"] for r in first.runs()] == ["running"])
    child = first.runs()[0]["pid"]
    assert child != first.process.pid
    os.kill(first.process.pid, signal.SIGKILL)  # the daemon only: its child is still alive
    first.process.wait(timeout=DEADLINE)
    deadline = time.monotonic() + DEADLINE
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert gone(child), "the crawl child outlived its daemon"

    second = start(config)
    site.release.set()
    second.wait_for(
        "slow caught up",
        lambda: [r["status"] for r in by_source(second.runs(), "slow")] == ["interrupted", "ok"],
    )
    assert second.stop() == 0


def test_a_source_being_crawled_by_hand_is_not_crawled_by_the_daemon_too(tmp_path, site, start):
    """The source's last run failed, so the daemon wants it at once when it starts; a crawl
    by hand holds it: its `running` row, written before the daemon starts."""
    config = write_config(tmp_path, {"slow": (site.url("/slow"), "1h")})
    (tmp_path / "data").mkdir()
    with Store(tmp_path / "data" / "crossings.db") as store:
        store.runs.finish(store.runs.start("slow"), RunStatus.FAILED, reason="slow: a 500")
    by_hand = subprocess.Popen(
        [sys.executable, "-m", "jobs", "--config", str(config), "crawl", "slow", "--no-alerts"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(
            "the crawl by hand to hold the source",
            lambda: [r.status for r in statuses(tmp_path)] == ["failed", "running"],
        )
        daemon = start(config)
        daemon.wait_for(
            "the daemon to see the crawl by hand",
            lambda: "slow is being crawled by another process" in daemon.log.read_text(),
        )
        assert [r["status"] for r in daemon.runs()] == ["failed", "running"]  # not two crawls
        site.release.set()
        assert by_hand.wait(timeout=DEADLINE) == 0
        assert daemon.stop() == 0
    finally:
        if by_hand.poll() is None:
            by_hand.kill()
    assert [r["status"] for r in daemon.runs()] == ["failed", "ok"]


def statuses(directory: Path) -> list[Run]:
    with Store(directory / "data" / "crossings.db", read_only=True) as store:
        return store.runs.recent("slow")[::-1]
