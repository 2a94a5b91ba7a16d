"""The real daemon process (`crossings run`) against a real local site: runs happen on
schedule, due sources share a child, SIGTERM and kill -9 mid-crawl leave a consistent
database, catch-up runs each overdue source once, /healthz and /metrics answer."""

import json
import signal
import socket
import sqlite3
import subprocess
from datetime import datetime, timedelta

import pytest

from core.checked import free_port
from core.status import RunStatus
from tests.jobs.daemon import DAEMON, DEADLINE, by_source, write_config

pytestmark = pytest.mark.slow


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
    fast = RunStatus(health["sources"]["fast"]["status"])  # the newest run: done or going
    assert fast.succeeded or fast == RunStatus.RUNNING, health
    status, body = daemon.get("/metrics")
    text = body.decode()
    assert status == 200
    assert 'crossings_runs{status="ok"}' in text
    assert "crossings_scheduler_running 1.0" in text
    assert 'crossings_outbox_messages{status="dead"} 0.0' in text
    assert "crossings_crawl_duration_seconds_count" in text
    status, body = daemon.get("/")
    assert status == 200
    assert b'<meta http-equiv="refresh" content="60">' in body  # its pages keep up
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
