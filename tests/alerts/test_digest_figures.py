"""A digest says where each watched metric stands now — its latest value and period, and
what a rule on it compares (the 7-day mean) — in the email (text and HTML) and the
webhook payload, even for a metric that did not move in the period."""

from datetime import UTC, datetime

from alerts.delivery import deliver_due
from alerts.digest import Digest
from alerts.digests import queue_digest
from alerts.rules.threshold import Threshold
from storage import MetricEntry, Observation
from tests.alerts.test_delivery import T0, email_channel
from tests.alerts.test_digests import METRIC, crawl, days, setup_catalog

QUIET = "cbp.swb.encounters.monthly"  # watched, but nothing new this week


def test_the_digest_shows_each_watched_metric_now(store, smtp) -> None:
    setup_catalog(store)
    store.catalog.describe_metrics([MetricEntry(QUIET, "Encounters by month", "encounters")])
    store.observations.upsert(
        [Observation(QUIET, "2024-03", 189_359.0), Observation(QUIET, "2024-04", 179_737.0)],
        snapshot_id=None, at="2024-05-01T06:00:00+00:00",
    )  # fmt: skip
    crawl(store, days(0, [3000, 3000, 3000, 3000, 3000, 4000, 5000]), "2024-05-10T06:00:00+00:00")
    rule = Threshold(name="surge", metric=METRIC, window=7, aggregate="mean", above=4000)
    digest = Digest(name="weekly", channels=("newsroom",), metrics=("cbp.*",))

    [queued] = queue_digest(store, digest, {"surge": rule}, now=datetime(2024, 5, 11, tzinfo=UTC))
    assert deliver_due(store, {"newsroom": email_channel(smtp)}, now=T0).sent == 1
    _, mail = smtp.mailbox.received[0]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    mean = (5 * 3000 + 4000 + 5000) / 7  # 3,428.57: the week up to 2024-05-07
    assert (
        f"Southwest border encounters, daily: 5,000 for 2024-05-07; 7-day mean {mean:,.2f}" in text
    )
    assert "Encounters by month: 179,737 encounters for 2024-04" in text  # did not move
    assert f"7-day mean {mean:,.2f}" in html and "179,737 encounters" in html
    figures = store.outbox.get(queued).payload["message"]["data"]["figures"]  # for webhooks
    assert [(f["metric"], f["value"]) for f in figures] == [(METRIC, 5000.0), (QUIET, 179_737.0)]
