"""Rules over real stored series: the exact periods they fire and resolve, once."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from alerts.engine import evaluate
from alerts.rules.change import Change
from alerts.rules.health import SourceHealth
from alerts.rules.news import NewsMatch
from alerts.rules.revision import RevisionDetected
from alerts.rules.stale import Stale
from alerts.rules.threshold import Threshold
from core.status import RunCounts
from storage import Cursor, MetricEntry, NewsItem, Observation, Store

START = date(2024, 5, 1)
METRIC = "cbp.swb.encounters.daily"


def proclamation(**overrides) -> Threshold:
    keys = {
        "name": "proclamation",
        "metric": METRIC,
        "window": 7,
        "aggregate": "mean",
        "at_or_above": 2500,
        "resolve_below": 1500,
        "resolve_for": 28,
        "channels": ("newsroom",),
    }
    return Threshold(**{**keys, **overrides})


def feed_daily(store, values, rules, *, metric=METRIC, start=START):
    """Store one day at a time and evaluate after each, as crawls would: return the
    (event kind, period) pairs in order."""
    seen = []
    for offset, value in enumerate(values):
        day = start + timedelta(days=offset)
        store.observations.upsert([Observation(metric, day.isoformat(), value)], snapshot_id=None)
        now = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        seen += [(event.kind, event.period) for event in evaluate(store, rules, now=now)]
    return seen


def day(n: int) -> str:
    """The n-th day of the series (1-based)."""
    return (START + timedelta(days=n - 1)).isoformat()


def test_the_border_proclamation_fires_and_lifts_on_the_exact_days(store):
    # 10 quiet days, 20 days at 3,000, then quiet again for 40 days.
    values = [1000] * 10 + [3000] * 20 + [1000] * 40
    events = feed_daily(store, values, {"proclamation": proclamation()})
    # The 7-day mean first reaches 2,500 with six high days in the window (day 16);
    # it first falls below 1,500 with one high day left (day 36) and has stayed below
    # for 28 days in a row on day 63.
    assert events == [("firing", day(16)), ("resolved", day(63))]


def test_a_single_day_back_above_the_lift_level_restarts_the_28_days(store):
    values = [1000] * 10 + [3000] * 20 + [1000] * 20 + [9000] + [1000] * 40
    events = feed_daily(store, values, {"proclamation": proclamation()})
    # Day 51 lifts the mean to 2,143 (not below 1,500) until it leaves the window on day 58:
    # the count starts again on day 58 and completes on day 85.
    assert events == [("firing", day(16)), ("resolved", day(85))]


def test_evaluating_twice_makes_no_second_event_nor_message(store):
    rules = {"proclamation": proclamation()}
    feed_daily(store, [3000] * 7, rules)
    assert store.outbox.counts()["pending"] == 1
    later = datetime(2024, 5, 8, tzinfo=UTC)
    assert evaluate(store, rules, now=later) == []
    assert evaluate(store, rules, now=later) == []
    assert len(store.alerts.events()) == 1
    assert store.outbox.counts()["pending"] == 1


def test_a_new_rule_records_the_past_as_history_and_announces_only_the_present(store):
    # History already stored: it fired and resolved long ago, then fired again recently.
    values = [3000] * 10 + [1000] * 40 + [3000] * 7
    store.observations.upsert(
        [Observation(METRIC, day(n + 1), v) for n, v in enumerate(values)], snapshot_id=None
    )
    announced = evaluate(
        store, {"proclamation": proclamation()}, now=datetime(2024, 7, 1, tzinfo=UTC)
    )
    assert [(e.kind, e.period) for e in announced] == [("firing", day(56))]
    events = reversed(store.alerts.events())
    assert [(e.kind, e.period, e.historical) for e in events] == [
        ("firing", day(7), True),  # the first full 7-day window
        ("resolved", day(43), True),  # below 1,500 from day 16, for 28 periods
        ("firing", day(56), False),  # still firing: the present, announced
    ]
    assert store.outbox.counts()["pending"] == 1


def test_hysteresis_below_rule_and_consecutive_periods(store):
    rule = Threshold(name="low", metric="m", below=10, resolve_above=20, for_=2)
    events = feed_daily(store, [30, 9, 30, 9, 8, 15, 25], {"low": rule}, metric="m")
    assert events == [("firing", day(5)), ("resolved", day(7))]


def test_glob_keeps_one_state_per_series(store):
    rule = Threshold(name="any", metric="trac.*", above=100)
    store.observations.upsert(
        [Observation("trac.a", "2024", 150), Observation("trac.b", "2024", 50),
         Observation("cbp.c", "2024", 500)],
        snapshot_id=None,
    )  # fmt: skip
    events = evaluate(store, {"any": rule})
    assert [(e.series, e.kind) for e in events] == [("trac.a", "firing")]
    store.observations.upsert([Observation("trac.b", "2025", 120)], snapshot_id=None)
    events = evaluate(store, {"any": rule})
    assert [(e.series, e.kind) for e in events] == [("trac.b", "firing")]
    states = {s.series: s.state for s in store.alerts.states(rule="any")}
    assert states == {"trac.a": "firing", "trac.b": "firing"}


@pytest.mark.parametrize(
    ("compare", "by", "values", "expected"),
    [
        ("previous", "percent", [100, 105, 130, 131],
         [("firing", "2024-05-03"), ("resolved", "2024-05-04")]),
        ("previous", "absolute", [100, 90, 40], [("firing", "2024-05-03")]),
    ],
)  # fmt: skip
def test_change_against_the_previous_period(store, compare, by, values, expected):
    rule = Change(name="jump", metric="m", compare=compare, by=by, rise=20, fall=30)
    assert feed_daily(store, values, {"jump": rule}, metric="m") == expected


def test_change_against_a_year_earlier(store):
    rule = Change(name="yoy", metric="m", compare="year_ago", rise=50)
    store.observations.upsert(
        [Observation("m", "2023-06", 100), Observation("m", "2023-07", 100)], snapshot_id=None
    )
    evaluate(store, {"yoy": rule})
    store.observations.upsert(
        [Observation("m", "2024-06", 120), Observation("m", "2024-07", 160)], snapshot_id=None
    )
    events = evaluate(store, {"yoy": rule})
    assert [(e.kind, e.period) for e in events] == [("firing", "2024-07")]
    assert "+60.0% against a year earlier (2023-07: 100)" in events[0].summary


def test_revision_detected_only_above_the_percent(store):
    rule = RevisionDetected(name="rev", metric="trac.*", min_percent=1)
    store.observations.upsert([Observation("trac.grant", "2024-08", 38.2)], snapshot_id=None)
    assert evaluate(store, {"rev": rule}) == []
    store.observations.upsert([Observation("trac.grant", "2024-08", 38.3)], snapshot_id=None)
    assert evaluate(store, {"rev": rule}) == []  # +0.3%
    store.observations.upsert([Observation("trac.grant", "2024-08", 36.8)], snapshot_id=None)
    events = evaluate(store, {"rev": rule})
    assert [e.kind for e in events] == ["notice"]
    assert "2024-08 revised from 38.3 to 36.8 (-3.9%)" in events[0].summary
    assert evaluate(store, {"rev": rule}) == []


def test_stale_fires_after_the_deadline_and_resolves_on_new_data(store):
    rule = Stale(name="stale", metric="trac.*", after=timedelta(days=45))
    store.observations.upsert(
        [Observation("trac.backlog", "2024-05", 1)], snapshot_id=None, at="2024-06-01T00:00:00Z"
    )
    assert evaluate(store, {"stale": rule}, now=datetime(2024, 7, 1, tzinfo=UTC)) == []
    events = evaluate(store, {"stale": rule}, now=datetime(2024, 7, 20, tzinfo=UTC))
    assert [(e.kind, e.series) for e in events] == [("firing", "trac.backlog")]
    assert evaluate(store, {"stale": rule}, now=datetime(2024, 7, 21, tzinfo=UTC)) == []
    store.observations.upsert(
        [Observation("trac.backlog", "2024-06", 2)], snapshot_id=None, at="2024-07-22T00:00:00Z"
    )
    events = evaluate(store, {"stale": rule}, now=datetime(2024, 7, 22, tzinfo=UTC))
    assert [e.kind for e in events] == ["resolved"]


def test_news_keyword_matches_new_items_only(store):
    rule = NewsMatch(name="asylum", keywords=("asylum ban",), regex=r"proclamation\s+\d+")
    store.news.add([NewsItem("dhs", "old", "Asylum ban announced")], snapshot_id=None)
    assert evaluate(store, {"asylum": rule}) == []  # what was there before the rule is not news
    store.news.add(
        [NewsItem("dhs", "1", "Court blocks asylum ban"), NewsItem("dhs", "2", "Weather"),
         NewsItem("dhs", "3", "Text", summary="Under Proclamation 10773 the border...")],
        snapshot_id=None,
    )  # fmt: skip
    events = evaluate(store, {"asylum": rule})
    assert [e.payload["news"]["title"] for e in events] == ["Court blocks asylum ban", "Text"]


def test_source_health_broken_at_once_failed_after_three_in_a_row(store):
    rules = {"health": SourceHealth(name="health", failures=3)}

    def run(source, status):
        run_id = store.runs.start(source)
        store.runs.finish(run_id, status, reason=f"{status} reason", counts=RunCounts())
        return [(e.kind, e.series) for e in evaluate(store, rules)]

    assert run("cbp", "ok") == []
    assert run("trac", "broken") == [("firing", "trac")]
    assert run("cbp", "failed") == []
    assert run("cbp", "failed") == []
    assert run("cbp", "failed") == [("firing", "cbp")]
    assert run("trac", "ok") == [("resolved", "trac")]
    events = store.alerts.events(rule="health")
    assert "trac ended broken: broken reason" in events[-1].summary


def test_silenced_rules_record_events_but_send_nothing(store):
    rules = {"proclamation": proclamation()}
    store.alerts.silence("procl*", until="2024-06-01T00:00:00Z", comment="known")
    feed_daily(store, [3000] * 7, rules)
    [event] = store.alerts.events()
    assert event.silenced and event.kind == "firing"
    assert store.outbox.counts()["pending"] == 0


def test_a_reminder_every_repeat_interval_while_firing(store):
    rules = {"proclamation": proclamation(repeat_interval=timedelta(days=3))}
    feed_daily(store, [3000] * 14, rules)
    kinds = [e.kind for e in reversed(store.alerts.events())]
    assert kinds == ["firing", "reminder", "reminder"]


class BrokenRule(Threshold):
    """A rule kind with a bug."""

    def judge(self, metric, points, start, view):
        raise RuntimeError("a bug in a rule kind")


def test_a_failing_rule_spares_the_others_and_is_tried_again(store, caplog):
    rules = {"broken": BrokenRule(name="broken", metric="m", above=1),
             "good": Threshold(name="good", metric="m", above=1)}  # fmt: skip
    store.observations.upsert([Observation("m", "2024", 5)], snapshot_id=None)
    events = evaluate(store, rules)
    assert [e.rule for e in events] == ["good"]
    assert "rule 'broken' could not be evaluated" in caplog.text
    assert store.alerts.cursor("broken") is None  # nothing recorded: next time it tries again


def test_a_rule_failing_the_same_way_again_logs_its_traceback_once(store, caplog):
    rules = {"thrice": BrokenRule(name="thrice", metric="m", above=1)}
    for year in ("2024", "2025", "2026"):
        store.observations.upsert([Observation("m", year, 5)], snapshot_id=None)
        evaluate(store, rules)
    tracebacks = [r for r in caplog.records if r.exc_info and "'thrice'" in r.getMessage()]
    again = [r for r in caplog.records if "still cannot be evaluated" in r.getMessage()]
    assert len(tracebacks) == 1 and len(again) == 2, caplog.text
    assert "RuntimeError: a bug in a rule kind" in again[0].getMessage()


def test_a_revised_latest_figure_is_judged_again(store):
    rule = Threshold(name="backlog", metric="trac.backlog", above=3_500_000)
    rules = {"backlog": rule}
    store.observations.upsert([Observation("trac.backlog", "2025-04", 3_400_000)], snapshot_id=None)
    store.observations.upsert([Observation("trac.backlog", "2025-05", 3_450_000)], snapshot_id=None)
    assert evaluate(store, rules) == []
    # The preliminary May figure is revised past the threshold by the next crawl.
    store.observations.upsert([Observation("trac.backlog", "2025-05", 3_546_863)], snapshot_id=None)
    assert [(e.kind, e.period) for e in evaluate(store, rules)] == [("firing", "2025-05")]
    assert evaluate(store, rules) == []
    store.observations.upsert([Observation("trac.backlog", "2025-06", 3_600_000)], snapshot_id=None)
    assert evaluate(store, rules) == []  # still firing: no second event


def test_two_evaluators_at_once_raise_one_event(tmp_path):
    """The daemon and a `crossings crawl` may evaluate at the same moment."""
    path = tmp_path / "shared.db"
    with Store(path) as store:
        store.observations.upsert([Observation(METRIC, day(n), 3000) for n in range(1, 8)],
                                  snapshot_id=None)  # fmt: skip
    rules = {"proclamation": proclamation()}
    found, start = [], threading.Barrier(4)

    def evaluator():
        with Store(path) as own:
            start.wait()
            found.extend(evaluate(own, rules))

    threads = [threading.Thread(target=evaluator) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [e.kind for e in found] == ["firing"]
    with Store(path, read_only=True) as store:
        assert store.outbox.counts()["pending"] == 1


def test_while_a_source_is_broken_alerts_on_its_metrics_are_held_and_named(store):
    store.catalog.describe_metrics([MetricEntry("trac.backlog", source="trac")])
    store.observations.upsert(
        [Observation("trac.backlog", "2024-05", 1)], snapshot_id=None, at="2024-06-01T00:00:00Z"
    )
    rules = {
        "stale": Stale(name="stale", metric="trac.*", after=timedelta(days=45), channels=("x",)),
        "health": SourceHealth(name="health", channels=("x",)),
    }
    assert evaluate(store, rules, now=datetime(2024, 6, 2, tzinfo=UTC)) == []
    run_id = store.runs.start("trac")
    store.runs.finish(run_id, "broken", reason="table 'Table 1.' not found", counts=RunCounts())
    events = evaluate(store, rules, now=datetime(2024, 7, 20, tzinfo=UTC))
    assert [(e.rule, e.kind, e.inhibited_by) for e in events] == [
        ("health", "firing", None), ("stale", "firing", "trac")]  # fmt: skip
    assert "alerts of stale are held until it recovers" in events[0].summary
    assert [row.subject for row in store.outbox.recent()] == [events[0].summary]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("keep", []), ("alert", [("error", "*")]), ("resolve", [("resolved", "m")])],
)
def test_a_rule_that_cannot_be_evaluated_follows_its_error_policy(store, policy, expected):
    store.observations.upsert([Observation("m", "2024-05-01", 5)], snapshot_id=None)
    evaluate(store, {"daily": Threshold(name="daily", metric="m", above=1)})
    # The same rule, now asked for calendar days over a monthly figure: it cannot judge it.
    store.observations.upsert([Observation("m", "2024-05", 5)], snapshot_id=None)
    broken = Threshold(name="daily", metric="m", above=1, window="2d", aggregate="mean",
                       on_error=policy, channels=("x",))  # fmt: skip
    store.alerts.save_cursor(
        Cursor("daily", broken.fingerprint(), *store.alerts.high_water()[:1], 0, ""), at="x"
    )
    store.observations.upsert([Observation("m", "2024-06", 5)], snapshot_id=None)
    events = evaluate(store, {"daily": broken})
    assert [(e.kind, e.series) for e in events] == expected
    if policy == "alert":
        assert "needs daily periods, found '2024-05'" in events[0].summary
        assert evaluate(store, {"daily": broken}) == []  # the same error: told once
