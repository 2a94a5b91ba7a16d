"""The daemon's alert work and retention job, over a real database."""

import asyncio

from jobs.config import parse
from jobs.daemon import Daemon
from jobs.daemon.alerting import Alerting
from storage import Store


def config_for(tmp_path, **settings):
    document = {"settings": {"database": str(tmp_path / "c.db"), **settings}}
    return parse(document, tmp_path / "crossings.toml")


def test_alert_work_that_fails_is_logged_and_the_daemon_goes_on(tmp_path, caplog):
    config = config_for(tmp_path)  # its file was never written: the worker cannot load it
    alerting = Alerting(config)
    asyncio.run(alerting.digest("weekly"))
    assert "failed (the alert worker exited with status 2" in caplog.text
    assert not alerting.busy


def test_the_retention_job_prunes_by_the_configured_days(tmp_path):
    config = config_for(tmp_path, retention_days=30)
    with Store(config.database) as store:
        for at in ("2020-01-01T00:00:00.000000Z", "2020-02-01T00:00:00.000000Z"):
            store.snapshots.record(
                source="s", url="http://x/a", http_status=200, body=at.encode() * 50, fetched_at=at
            )
    asyncio.run(Daemon(config)._prune())
    with Store(config.database, read_only=True) as store:
        assert store.snapshots.counts()["snapshots"] == 1  # the newest of the URL is kept
