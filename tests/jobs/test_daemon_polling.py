"""The real daemon with a `schedule = "auto"` source: polled at once when it never ran
(its plan's first poll), recorded with its own trigger, then replanned from what the
crawl stored; its plan is logged and its quiet time is in /metrics."""

import json

import pytest

from tests.jobs.daemon import by_source, write_config

pytestmark = pytest.mark.slow


def test_an_auto_source_is_polled_by_its_plan(tmp_path, site, start):
    config = write_config(tmp_path, {"cbp": (site.url("/cbp"), "auto")})
    config.write_text(
        config.read_text().replace(
            'schedule = "auto"', 'schedule = "auto"\nreleases = "monthly, days 10-20"'
        )
    )
    daemon = start(config)
    daemon.wait_for(
        "the first poll of the auto source",
        lambda: any(r["status"] == "ok" for r in by_source(daemon.runs(), "cbp")),
    )
    runs = by_source(daemon.runs(), "cbp")
    assert runs[0]["trigger"] == "release window"
    daemon.wait_for("the plan after the crawl", lambda: "from the hint" in daemon.log.read_text())
    status, body = daemon.get("/healthz")
    assert status == 200 and json.loads(body)["scheduler"]["jobs"] >= 2  # poll + delivery
    status, body = daemon.get("/metrics")
    assert 'crossings_source_seconds_since_new_period{source="cbp"}' in body.decode()
    assert daemon.stop() == 0
    log = daemon.log.read_text()
    assert "cbp: monthly, days 10-20 (from the hint; 0 release(s) seen so far)" in log
    assert "budget 300 polls a month" in log
    assert len(by_source(daemon.runs(), "cbp")) == 1  # dense polls are minutes apart
