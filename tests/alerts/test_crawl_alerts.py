"""`crossings crawl` evaluates the rules and delivers after crawling: the demo site's
backlog past 3.5 million sends one signed webhook; the next crawl sends nothing new."""

from jobs.demo.site import DemoSite, demo_sources_toml
from storage import Store
from tests.commands import crossings

RULES = """
[channels.hook]
kind = "webhook"
url = "{url}"
secret_env = "CROSSINGS_TEST_HOOK_SECRET"
timeout = 5

[rules.trac-backlog]
kind = "threshold"
description = "TRAC backlog passed 3.5 million"
metric = "trac.court.backlog"
above = 3_500_000
channels = ["hook"]
"""


def test_crawl_then_alert_once_and_no_alerts_skips(tmp_path, receiver):
    with DemoSite(day_seconds=3600) as site:
        config = tmp_path / "crossings.toml"
        sources = demo_sources_toml(site.base_url)
        config.write_text(
            '[settings]\ndatabase = "crossings.db"\ndownload_delay = 0\n'
            + sources
            + RULES.format(url=receiver.url)
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
