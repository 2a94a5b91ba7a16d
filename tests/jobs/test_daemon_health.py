"""/healthz and /metrics in-process, over a real database: what each says when."""

import asyncio
import sqlite3

from aiohttp.test_utils import TestClient, TestServer

from core.status import RunCounts
from jobs.config import parse
from jobs.web.app import make_app
from jobs.web.health import SCHEDULER_STATUS
from storage import Store


def config_for(tmp_path):
    return parse({"settings": {"database": str(tmp_path / "c.db")}}, tmp_path / "crossings.toml")


def get(app, path):
    async def fetch():
        async with TestClient(TestServer(app)) as client:
            response = await client.get(path)
            return response.status, await response.text()

    return asyncio.run(fetch())


def test_healthz_is_503_when_the_scheduler_stops_and_lists_last_runs(tmp_path):
    config = config_for(tmp_path)
    with Store(config.database) as store:
        run = store.runs.start("trac", trigger="schedule", pid=1)
        store.runs.finish(run, "broken", reason="table 'Backlog' not found")
    app = make_app(config)
    state = {"running": True}
    app[SCHEDULER_STATUS] = lambda: dict(state)
    status, body = get(app, "/healthz")
    assert status == 200
    assert '"broken"' in body and "table 'Backlog' not found" in body
    state["running"] = False
    app = make_app(config)
    app[SCHEDULER_STATUS] = lambda: dict(state)
    assert (get(app, "/healthz"))[0] == 503


def test_healthz_is_503_when_the_database_cannot_take_writes(tmp_path):
    config = config_for(tmp_path)
    Store(config.database).close()
    app = make_app(config)
    app[SCHEDULER_STATUS] = lambda: {"running": True}
    blocker = sqlite3.connect(config.database, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the lock for good
    try:
        status, body = get(app, "/healthz")
    finally:
        blocker.rollback()
        blocker.close()
    assert status == 503
    assert "cannot write" in body


def test_metrics_count_runs_durations_values_and_outbox(tmp_path):
    config = config_for(tmp_path)
    with Store(config.database) as store:
        for status in ("ok", "ok", "failed"):
            store.runs.finish(store.runs.start("s"), status, counts=RunCounts(values_new=1))
    status, text = get(make_app(config), "/metrics")
    assert status == 200
    assert 'crossings_runs{status="ok"} 2.0' in text
    assert 'crossings_runs{status="failed"} 1.0' in text
    assert "crossings_crawl_duration_seconds_count 3.0" in text
    assert 'crossings_outbox_messages{status="pending"} 0.0' in text
    assert "crossings_alerts_firing 0.0" in text
    assert 'crossings_source_last_success_timestamp_seconds{source="s"}' in text
    assert "crossings_scheduler_running" not in text  # no scheduler in `crossings serve`
