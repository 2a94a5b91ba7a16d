"""`crossings crawl` evaluates the rules and delivers after crawling: the demo site's
backlog past 3.5 million sends one signed webhook; the next crawl sends nothing new."""

from jobs.demo.site import DemoSite, demo_sources_toml
from storage import Store
from tests.commands import crossings
from tests.configs import BACKLOG_RULE, webhook, write_config


def test_crawl_then_alert_once_and_no_alerts_skips(tmp_path, receiver):
    with DemoSite(day_seconds=3600) as site:
        config = write_config(
            tmp_path,
            demo_sources_toml(site.base_url),
            webhook(receiver.url),
            BACKLOG_RULE.format(channel="hook"),
        )
        quiet = crossings(config, "crawl", "trac-quickfacts", "--no-alerts")
        assert quiet.returncode == 0, quiet.stdout + quiet.stderr
        assert receiver.requests == [] and "alert" not in quiet.stdout
        first = crossings(config, "crawl", "trac-quickfacts")
        second = crossings(config, "crawl", "trac-quickfacts")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "alert firing: TRAC backlog passed 3.5 million" in first.stdout
    assert "alerts sent: 1" in first.stdout
    assert "alert firing" not in second.stdout
    [request] = receiver.requests
    assert request["signed"]
    assert request["json"]["data"]["metric"] == "trac.court.backlog"
    with Store(tmp_path / "crossings.db", read_only=True) as store:
        assert store.outbox.counts() == {"pending": 0, "sent": 1, "dead": 0}
