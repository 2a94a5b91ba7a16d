"""Digests and the whole path a user relies on: a crawl lifts a 7-day mean, one email
with a chart and one signed webhook go out, the next crawl repeats neither, the drop
below the resolve level sends one resolved notice."""

from datetime import UTC, datetime, timedelta

from alerts.delivery import deliver_due
from alerts.digest import Digest
from alerts.digests import preview, queue_digest
from alerts.engine import evaluate
from alerts.rules.threshold import Threshold
from core.status import RunCounts
from storage import MetricEntry, Observation, SourceEntry
from tests.alerts.test_delivery import T0, email_channel, hook_channel

METRIC = "cbp.swb.encounters.daily"


def crawl(store, days: dict[str, float], at: str) -> None:
    """What a crawl leaves behind: a run, a snapshot, the values it parsed."""
    run_id = store.runs.start("cbp-daily")
    snapshot = store.snapshots.record(
        source="cbp-daily", url="https://www.cbp.gov/daily.csv", http_status=200,
        body=repr(sorted(days.items())).encode(), run_id=run_id, fetched_at=at,
    )  # fmt: skip
    store.observations.upsert(
        [Observation(METRIC, day, value) for day, value in days.items()],
        snapshot_id=snapshot.id,
        at=at,
    )
    store.runs.finish(run_id, "ok", counts=RunCounts(values_new=len(days)))


def setup_catalog(store) -> None:
    store.catalog.sync_sources(
        [SourceEntry("cbp-daily", "csv", "https://www.cbp.gov/", "CBP daily encounters")]
    )
    store.catalog.describe_metrics([MetricEntry(METRIC, "Southwest border encounters, daily")])


def days(start: int, values: list[float]) -> dict[str, float]:
    first = datetime(2024, 5, 1) + timedelta(days=start)
    return {(first + timedelta(days=i)).date().isoformat(): v for i, v in enumerate(values)}


def test_crawls_lift_and_drop_the_mean_one_email_one_webhook_then_one_resolved(
    store, smtp, receiver
):
    setup_catalog(store)
    rule = Threshold(
        name="surge", description="7-day mean of border encounters above 4,000", metric=METRIC,
        window=7, aggregate="mean", above=4000, resolve_below=3000, channels=("newsroom", "hook"),
    )  # fmt: skip
    rules, channels = (
        {"surge": rule},
        {"newsroom": email_channel(smtp), "hook": hook_channel(receiver)},
    )

    def crawl_and_alert(values: dict[str, float], at: str) -> None:
        crawl(store, values, at)
        evaluate(store, rules, now=datetime.fromisoformat(at))
        deliver_due(store, channels, now=T0)

    crawl_and_alert(days(0, [3000] * 14), "2024-05-15T06:00:00+00:00")
    assert smtp.mailbox.received == [] and receiver.requests == []
    crawl_and_alert(days(14, [5000] * 7), "2024-05-22T06:00:00+00:00")
    crawl_and_alert(days(21, [5200]), "2024-05-23T06:00:00+00:00")  # still high: nothing new
    assert len(smtp.mailbox.received) == 1 and len(receiver.requests) == 1
    _, mail = smtp.mailbox.received[0]
    text = mail.get_body(("plain",)).get_content()
    assert "Southwest border encounters, daily" in text and "4,000" in text
    html_part = mail.get_body(("html",))
    [image] = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html_part.get_content()
    assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    assert receiver.requests[0]["signed"]
    assert receiver.requests[0]["json"]["data"]["status"] == "firing"

    crawl_and_alert(days(22, [2000] * 7), "2024-05-30T06:00:00+00:00")
    crawl_and_alert(days(29, [2000]), "2024-05-31T06:00:00+00:00")
    assert len(smtp.mailbox.received) == 2 and len(receiver.requests) == 2
    assert smtp.mailbox.received[1][1]["Subject"].strip().startswith("[resolved]")
    assert receiver.requests[1]["json"]["data"]["status"] == "resolved"


def test_a_digest_has_values_alerts_and_a_chart_inline_and_in_preview(store, smtp, tmp_path):
    setup_catalog(store)
    rule = Threshold(name="surge", metric=METRIC, window=7, aggregate="mean", above=4000)
    crawl(store, days(0, [3000] * 10), "2024-05-11T06:00:00+00:00")
    crawl(store, days(8, [3100, 6000, 6000, 6000, 6000, 6000, 6000]), "2024-05-17T06:00:00+00:00")
    evaluate(store, {"surge": rule}, now=datetime(2024, 5, 17, 7, tzinfo=UTC))
    digest = Digest(name="weekly", channels=("newsroom",), metrics=("cbp.*",))
    now = datetime(2024, 5, 18, tzinfo=UTC)

    page = preview(store, digest, {"surge": rule}, now=now)
    assert 'src="data:image/png;base64,iVBOR' in page
    assert "revised from 3,000" in page  # 2024-05-09 went from 3,000 to 3,100
    assert "surge" in page and "cbp-daily" in page

    [message_id] = queue_digest(store, digest, {"surge": rule}, now=now)
    assert queue_digest(store, digest, {"surge": rule}, now=now) == []  # same minute: once
    assert deliver_due(store, {"newsroom": email_channel(smtp)}, now=T0).sent == 1
    _, mail = smtp.mailbox.received[0]
    assert "weekly digest" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert (
        "Southwest border encounters, daily, 2024-05-09: 3,100 (revised from 3,000, +100.0)" in text
    )
    assert "2024-05-15: 6,000 (newest of 15 new periods)" in text  # one line per series
    assert "[firing] surge" in text
    assert "cbp-daily: ok" in text
    assert any(part.get_content_type() == "image/png" for part in mail.walk())
    assert store.outbox.get(message_id).status == "sent"
