"""The runner seam the daemon relies on: one child per crawl, never an exception, and
no run left `running` whatever happens to the child (SIGTERM, SIGKILL, a timeout)."""

import asyncio
import json
import logging
import os
import signal
import time
from pathlib import Path

import pytest

from jobs.logs import JsonFormatter, relog
from jobs.runners.local import LocalRunner
from storage import Run, Store
from tests.configs import settings
from tests.scrapers.server import Route, Site

SOURCES = (
    settings(timeout=60, retries=0)
    + """
[sources.quick]
kind = "feed"
url = "{url}/quick.xml"

[sources.slow]
kind = "feed"
url = "{url}/slow.xml"
"""
)
RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>One</title><link>https://example.org/1</link></item></channel></rss>"""


@pytest.fixture
def world(tmp_path):
    site = Site()
    site.routes["/quick.xml"] = Route(RSS, "application/rss+xml")
    site.routes["/slow.xml"] = Route(RSS, "application/rss+xml", delay=30)
    config = tmp_path / "crossings.toml"
    config.write_text(SOURCES.format(url=site.url))
    yield site, config, tmp_path / "crossings.db"
    site.close()


def runs(database: Path) -> dict[str, Run]:
    with Store(database, read_only=True) as store:
        return {row.source: row for row in store.runs.recent(limit=10)}


async def crawl_until_slow_is_fetched(
    runner: LocalRunner, site: Site, database: Path, *, then
) -> list:
    """Start a crawl of both sources, and call `then` once quick is done and slow is
    waiting for its page."""
    task = asyncio.create_task(runner.crawl(["quick", "slow"], trigger="schedule"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        quick = runs(database).get("quick") if site.hits["/slow.xml"] else None
        if quick and quick.status != "running":
            break
    then()
    return await task


def test_sigterm_finishes_what_it_can_and_marks_the_rest_interrupted(world):
    site, config, database = world
    runner = LocalRunner(config)
    results = asyncio.run(
        crawl_until_slow_is_fetched(runner, site, database, then=runner.terminate)
    )
    by_source = {result.source: result for result in results}
    assert by_source["quick"].status == "ok"
    assert by_source["slow"].status == "interrupted"
    assert "stopped" in by_source["slow"].reason
    rows = runs(database)
    assert rows["slow"].status == "interrupted" and rows["slow"].reason
    assert rows["slow"].trigger == "schedule"
    assert rows["quick"].status == "ok"


def test_a_child_killed_by_a_signal_leaves_its_runs_failed_none_running(world):
    site, config, database = world

    def kill_the_child() -> None:
        os.kill(runs(database)["slow"].pid, signal.SIGKILL)

    results = asyncio.run(
        crawl_until_slow_is_fetched(LocalRunner(config), site, database, then=kill_the_child)
    )
    by_source = {result.source: result for result in results}
    # killed by someone else (the OOM killer, a crash): failed, so that health rules and
    # the retries of failed runs apply (issue 28); a stop the runner asked for is
    # `interrupted` (above)
    assert by_source["slow"].status == "failed"
    assert "killed (SIGKILL)" in by_source["slow"].reason
    assert by_source["slow"].run_id == runs(database)["slow"].id
    assert {row.status for row in runs(database).values()} <= {"ok", "failed"}


def test_a_crawl_past_the_timeout_is_stopped(world):
    _, config, database = world
    results = LocalRunner(config, timeout=3).crawl_sync(["slow"])
    assert results[0].status == "interrupted"
    assert "longer than 3 s" in results[0].reason
    assert runs(database)["slow"].status == "interrupted"


def test_unknown_sources_are_a_failed_result_not_an_exception(world):
    _, config, _ = world
    results = LocalRunner(config).crawl_sync(["nope"])
    assert [(r.source, r.status) for r in results] == [("nope", "failed")]
    assert "unknown sources: nope" in results[0].reason


def test_a_childs_log_lines_reach_the_daemons_log_with_source_and_pid(world, caplog):
    _site, config, _database = world
    caplog.set_level(logging.DEBUG)  # the child logs at the daemon's level
    (result,) = LocalRunner(config).crawl_sync(["quick"])
    assert result.status == "ok"
    crawled = [r for r in caplog.records if "Crawled (200)" in r.getMessage()]
    assert crawled, [r.getMessage() for r in caplog.records][:20]
    record = crawled[0]
    assert record.name.startswith("crossings.crawl.scrapy.")
    assert record.fields["source"] == "quick" and record.fields["pid"] != os.getpid()
    assert f"quick (pid {record.fields['pid']})" in record.getMessage()


def test_at_warning_scrapys_progress_lines_stay_out_of_the_log(world, caplog):
    _site, config, _database = world
    caplog.set_level(logging.WARNING)
    (result,) = LocalRunner(config).crawl_sync(["quick"])
    assert result.status == "ok"
    assert not [r for r in caplog.records if r.name.startswith("crossings.crawl.")]


def test_a_childs_traceback_is_kept_in_text_and_json_logs(caplog):
    child_line = json.dumps({
        "level": "error", "logger": "scrapers.pipelines", "message": "storing failed",
        "traceback": "Traceback (most recent call last):\n  sqlite3.OperationalError: locked",
    }).encode()  # fmt: skip
    caplog.set_level(logging.INFO)
    assert relog(child_line, {"source": "cbp", "pid": 4242}) == "storing failed"
    (record,) = caplog.records
    text = logging.Formatter("%(levelname)s %(message)s").format(record)
    assert text.startswith("ERROR cbp (pid 4242): storing failed\nTraceback")
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["level"], entry["source"], entry["pid"]) == ("error", "cbp", 4242)
    assert "sqlite3.OperationalError" in entry["traceback"]
    assert relog(b"Fatal Python error: Segmentation fault\n", {"source": "cbp", "pid": 1})
    assert caplog.records[-1].levelno == logging.WARNING


STREAMED = """[settings]
database = "crossings.db"
download_delay = 0
timeout = 600
retries = 0

[sources.stuck]
kind = "csv"
url = "{url}/listing"
link = 'stuck\\.csv$'
metric = "stuck"
value = "Encounter Count"
year = "Fiscal Year"
"""


@pytest.mark.timeout(120)
def test_sigterm_stops_a_child_whose_worker_thread_is_stuck(tmp_path):
    """Issue 28: a streamed download waiting in a worker thread (a slow site, a DNS
    lookup retrying) held the child past the daemon's grace after SIGTERM: the crawl
    was cut but the process waited for its workers. It now ends at once."""
    site = Site()
    site.routes["/listing"] = Route(b'<a href="/stuck.csv">the file</a>')
    site.routes["/stuck.csv"] = Route(b"Fiscal Year,Encounter Count\n2024,1\n", delay=600)
    config = tmp_path / "crossings.toml"
    config.write_text(STREAMED.format(url=site.url))
    runner = LocalRunner(config)

    async def crawl_then_stop() -> list:
        task = asyncio.create_task(runner.crawl(["stuck"]))
        while not site.hits["/stuck.csv"]:
            await asyncio.sleep(0.05)
        runner.terminate()
        return await task

    try:
        [result] = asyncio.run(crawl_then_stop())
    finally:
        site.close()
    assert result.status == "interrupted"
    assert "stopped (SIGTERM)" in result.reason
    assert runs(tmp_path / "crossings.db")["stuck"].status == "interrupted"
