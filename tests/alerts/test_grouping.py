"""Grouping: alerts raised together for one channel go as one message — through a real
SMTP server and a real HTTP receiver — while every alert keeps its own outbox row."""

from datetime import timedelta

from alerts.delivery import deliver_due
from alerts.engine import evaluate
from alerts.rules.threshold import Threshold
from storage import MetricEntry, Observation, SourceEntry
from tests.alerts.test_delivery import T0, email_channel, hook_channel

SERIES = [f"cbp.swb.sector{n}.encounters" for n in range(1, 6)]


def five_series_moved_by_one_crawl(store, rule_channels, sources=("cbp-sectors",)) -> None:
    store.catalog.sync_sources([SourceEntry(name, "csv", "https://www.cbp.gov/", name)
                                for name in sources])  # fmt: skip
    store.catalog.describe_metrics(
        [MetricEntry(metric, source=sources[i % len(sources)]) for i, metric in enumerate(SERIES)]
    )
    store.observations.upsert([Observation(m, "2024-05", 100) for m in SERIES], snapshot_id=None)
    evaluate(store, {"sector": Threshold(name="sector", metric="cbp.swb.*", above=1000,
                                         channels=rule_channels)}, now=T0)  # fmt: skip
    store.observations.upsert([Observation(m, "2024-06", 5000) for m in SERIES], snapshot_id=None)
    events = evaluate(store, {"sector": Threshold(name="sector", metric="cbp.swb.*", above=1000,
                                                  channels=rule_channels)}, now=T0)  # fmt: skip
    assert [e.series for e in events] == SERIES


def test_five_series_moved_by_one_crawl_make_one_email_and_one_webhook_call(store, smtp, receiver):
    five_series_moved_by_one_crawl(store, ("newsroom", "hook"))
    channels = {"newsroom": email_channel(smtp), "hook": hook_channel(receiver)}
    report = deliver_due(store, channels, now=T0)
    assert (report.sent, report.errors) == (10, [])
    [(_, mail)] = smtp.mailbox.received
    [request] = receiver.requests
    assert mail["Subject"].startswith("5 alerts (5 firing): ")
    text = mail.get_body(("plain",)).get_content()
    for series in SERIES:
        assert series in text
        assert series in request["json"]["text"]
    assert [e["series"] for e in request["json"]["data"]["events"]] == SERIES
    # Every alert is still its own outbox row, all sent; delivering again sends nothing.
    rows = store.outbox.recent()
    assert len(rows) == 10 and {row.status for row in rows} == {"sent"}
    assert deliver_due(store, channels, now=T0 + timedelta(hours=1)).sent == 0
    assert len(smtp.mailbox.received) == 1 and len(receiver.requests) == 1


def test_group_by_source_makes_one_message_per_source(store, receiver):
    five_series_moved_by_one_crawl(store, ("hook",), sources=("bp", "ofo"))
    channels = {"hook": hook_channel(receiver, group_by=("source",))}
    assert deliver_due(store, channels, now=T0).sent == 5
    counts = sorted(request["json"]["data"]["count"] for request in receiver.requests)
    assert counts == [2, 3]


def test_group_wait_holds_alerts_so_that_later_ones_join(store, receiver):
    five_series_moved_by_one_crawl(store, ("hook",))
    channels = {"hook": hook_channel(receiver, group_wait=timedelta(seconds=30))}
    assert deliver_due(store, channels, now=T0).sent == 0
    assert {row.attempts for row in store.outbox.recent()} == {0}  # held, not failed
    assert deliver_due(store, channels, now=T0 + timedelta(seconds=30)).sent == 5
    assert len(receiver.requests) == 1


def test_a_failing_receiver_retries_the_whole_group_once_up(store, receiver):
    five_series_moved_by_one_crawl(store, ("hook",))
    channels = {"hook": hook_channel(receiver)}
    receiver.script = ["500"]
    report = deliver_due(store, channels, now=T0)
    assert (report.sent, report.retrying) == (0, 5)
    assert deliver_due(store, channels, now=T0 + timedelta(minutes=1)).sent == 5
    keys = {request["headers"]["Idempotency-Key"] for request in receiver.requests}
    assert len(receiver.requests) == 2 and len(keys) == 1  # the same message, retried


def test_a_retried_alert_keeps_its_key_when_a_new_alert_is_due_with_it(store, receiver):
    """Issue 28: a retried message grouped with a newer alert went out under a new key,
    and the receiver got the same alert twice under two keys. A retried message goes
    again as it was (same key), and every event carries its own alert's key."""
    rule = {"sector": Threshold(name="sector", metric="cbp.swb.*", above=1000,
                                channels=("hook",))}  # fmt: skip
    first, second = SERIES[:2]
    store.observations.upsert([Observation(first, "2024-06", 5000)], snapshot_id=None)
    evaluate(store, rule, now=T0)
    channels = {"hook": hook_channel(receiver)}
    receiver.script = ["500"]
    assert deliver_due(store, channels, now=T0).retrying == 1
    store.observations.upsert([Observation(second, "2024-06", 5000)], snapshot_id=None)
    evaluate(store, rule, now=T0 + timedelta(seconds=40))
    assert deliver_due(store, channels, now=T0 + timedelta(minutes=1)).sent == 2
    tried, again, new = receiver.requests
    key = tried["headers"]["Idempotency-Key"]
    assert again["headers"]["Idempotency-Key"] == key
    assert again["json"]["data"]["series"] == first and new["json"]["data"]["series"] == second
    assert new["headers"]["Idempotency-Key"] != key
    assert [r["json"]["data"]["idempotency_key"] for r in (tried, again)] == [key, key]


def test_a_group_carries_the_key_of_each_alert_in_it(store, receiver):
    five_series_moved_by_one_crawl(store, ("hook",))
    assert deliver_due(store, {"hook": hook_channel(receiver)}, now=T0).sent == 5
    [request] = receiver.requests
    keys = {event["idempotency_key"] for event in request["json"]["data"]["events"]}
    assert keys == {row.idempotency_key for row in store.outbox.recent()}
