"""The daemon's alert worker and retention job, in-process over a real database."""

import asyncio
import os
from pathlib import Path

from jobs.config import parse
from jobs.daemon import Daemon
from jobs.daemon.alerting import Alerting
from storage import Store


def config_for(tmp_path, **settings):
    document = {"settings": {"database": str(tmp_path / "c.db"), **settings}}
    return parse(document, tmp_path / "crossings.toml")


def die(config_path: str) -> None:
    os._exit(9)  # what the OOM killer does to a worker mid-work


def leave_mark(config_path: str, mark: str) -> None:
    Path(mark).write_text(config_path)


def test_a_dead_alert_worker_is_replaced_and_the_next_work_runs(tmp_path, caplog):
    alerting = Alerting(config_for(tmp_path))
    mark = tmp_path / "mark"

    async def work():
        await alerting._in_worker("evaluation", die)
        await alerting._in_worker("evaluation", leave_mark, str(mark))

    try:
        asyncio.run(work())
    finally:
        alerting.close()
    assert "the alert worker process died" in caplog.text
    assert mark.read_text() == str(tmp_path / "crossings.toml")


def test_the_retention_job_prunes_by_the_configured_days(tmp_path):
    config = config_for(tmp_path, retention_days=30)
    with Store(config.database) as store:
        for at in ("2020-01-01T00:00:00.000000Z", "2020-02-01T00:00:00.000000Z"):
            store.snapshots.record(
                source="s", url="http://x/a", http_status=200, body=at.encode() * 50, fetched_at=at
            )
    daemon = Daemon(config)
    try:
        asyncio.run(daemon._prune())
    finally:
        daemon.alerting.close()
    with Store(config.database, read_only=True) as store:
        assert store.snapshots.counts()["snapshots"] == 1  # the newest of the URL is kept
