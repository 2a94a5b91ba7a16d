"""Derived metrics: a safe expression language over stored series, stored as observations
with vintages and provenance, recomputed (as revisions) when an input is revised."""

import gc
import tomllib
from pathlib import Path

import pytest

from alerts.engine import evaluate
from alerts.rules.threshold import Threshold
from jobs.config import ConfigError
from jobs.config import parse as parse_config
from series.derived import DerivedMetric, derive, unit_problems
from series.expression import ExpressionError, parse
from storage import Observation

MONTHLY = "cbp.swb.usbp.encounters"


def metric(name="daily", expression=f'per_day("{MONTHLY}")', **keys) -> dict:
    return {name: DerivedMetric(name=name, expression=expression, **keys)}


def current(store, name):
    return {p.period: (round(p.value, 3), p.flags) for p in store.observations.series(name)}


def test_a_per_day_average_of_a_monthly_total_with_a_partial_month(store):
    store.observations.upsert(
        [Observation(MONTHLY, "2024-06", 83_532), Observation(MONTHLY, "2024-07", 56_408)],
        snapshot_id=None, at="2024-08-14T09:00:00.000000Z",
    )  # fmt: skip
    # August as published on 14 August covers 13 days: divided by 13, flagged partial.
    store.observations.upsert(
        [Observation(MONTHLY, "2024-08", 26_000, flags=("partial",))],
        snapshot_id=None, at="2024-08-14T09:00:00.000000Z",
    )  # fmt: skip
    derive(store, metric())
    assert current(store, "daily") == {
        "2024-06": (2784.4, ()),  # 83,532 / 30: "about 2,784 a day"
        "2024-07": (1819.613, ()),
        "2024-08": (2000.0, ("partial",)),
    }


def test_a_revised_input_makes_a_revision_that_names_its_inputs(store):
    store.observations.upsert([Observation(MONTHLY, "2024-06", 90_000)], snapshot_id=None)
    metrics = metric()
    derive(store, metrics)
    store.observations.upsert([Observation(MONTHLY, "2024-06", 83_532)], snapshot_id=None)
    derive(store, metrics)
    vintages = store.observations.history("daily", "2024-06")
    assert [round(v.value, 1) for v in vintages] == [3000.0, 2784.4]
    assert vintages[0].superseded_at is not None
    revision = store.observations.revisions(since="", metric="daily")
    assert [(r.old_value, round(r.new_value, 1)) for r in revision] == [(3000.0, 2784.4)]
    inputs = store.derived.inputs(vintages[1].id)
    assert [(p.metric, p.period, p.value) for p in inputs] == [(MONTHLY, "2024-06", 83_532)]
    derive(store, metrics)  # nothing changed: nothing new
    assert len(store.observations.history("daily", "2024-06")) == 2


def test_sums_differences_ratios_and_a_calendar_rolling_mean(store):
    days = [f"2024-05-{d:02d}" for d in range(1, 11) if d != 6]  # 6 May missing
    store.observations.upsert(
        [Observation("bp.daily", d, 100 * i) for i, d in enumerate(days, 1)]
        + [Observation("ofo.daily", d, 10) for d in days],
        snapshot_id=None,
    )
    metrics = {
        **metric("total", 'sum("*.daily")'),
        **metric("gap", '"bp.daily" - "ofo.daily"'),
        **metric("share", '"ofo.daily" / "total" * 100'),
        **metric("week", 'rolling("total", "3d", mean)'),
    }
    derive(store, metrics)
    assert current(store, "total")["2024-05-10"] == (910.0, ())
    assert current(store, "gap")["2024-05-01"] == (90.0, ())
    assert current(store, "share")["2024-05-01"] == (9.091, ())
    # Windows that would cover 6 May are incomplete and left out (never stretched).
    assert sorted(current(store, "week")) == ["2024-05-03", "2024-05-04", "2024-05-05",
                                              "2024-05-09", "2024-05-10"]  # fmt: skip
    assert current(store, "week")["2024-05-10"] == (810.0, ())  # (710 + 810 + 910) / 3


def test_only_the_changed_periods_are_recomputed_and_a_rule_fires_on_the_result(store):
    store.observations.upsert(
        [Observation(MONTHLY, f"2024-0{m}", 90_000) for m in range(1, 6)], snapshot_id=None
    )
    metrics = metric()
    rules = {"four-k": Threshold(name="four-k", metric="daily", above=4000, channels=("x",))}
    derive(store, metrics)
    assert evaluate(store, rules) == []
    store.observations.upsert([Observation(MONTHLY, "2024-06", 150_000)], snapshot_id=None)
    derive(store, metrics)
    events = evaluate(store, rules)
    assert [(e.kind, e.period) for e in events] == [("firing", "2024-06")]
    assert events[0].summary == "four-k: value 5,000 is above 4,000"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('__import__("os").system("x")', "is not allowed"),
        ('__import__("os")', "__import__() is not a function here"),
        ('"a".upper()', "is not allowed"),
        ("a + 1", "a is not known; write a metric name in quotes"),
        ('"a" ** 2', "is not allowed"),
        ('"cbp.*" + 1', 'add the series up with sum("cbp.*")'),
        ('rolling("a", "7x", mean)', "neither a number of periods"),
        ('rolling("a", "7d", median)', "mean, sum, min or max"),
        ('per_day("a", "b")', 'per_day() is written per_day("metric")'),
        ('"a" +', "not a valid expression"),
    ],
)
def test_expressions_outside_the_language_are_refused_and_never_run(text, message):
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert message in str(caught.value)


def config_with(tmp_path: Path, text: str):
    path = tmp_path / "c.toml"
    path.write_text(text)
    return parse_config(tomllib.loads(text), path)


def test_the_config_refuses_cycles_and_bad_expressions(tmp_path):
    with pytest.raises(ConfigError) as caught:
        config_with(
            tmp_path,
            """
[metrics.a]
expression = '"b" + 1'
[metrics.b]
expression = 'rolling("a", "7d", mean)'
[metrics.c]
expression = 'open("x")'
""",
        )
    text = str(caught.value)
    assert "cycle: a -> b -> a" in text
    assert 'metric "c": expression: column 1: open() is not a function here' in text


def test_units_must_agree():
    units = {"bp": "encounters", "ofo": "encounters", "cases": "cases"}.get
    metrics = {
        **metric("ok", 'per_day("bp") + per_day("ofo")', unit="encounters per day"),
        **metric("added", '"bp" + "cases"'),
        **metric("declared", 'per_day("bp")', unit="encounters"),
        **metric("ratio", '"cases" / "bp"'),
    }
    found = unit_problems(metrics, lambda pattern: {units(pattern)} - {None})
    assert set(found) == {"added", "declared"}
    assert found["added"] == (
        'unit mismatch: "bp" is in encounters but "cases" is in cases; adding them means nothing'
    )
    assert "expression gives 'encounters per day' but unit = 'encounters'" in found["declared"]


def test_a_metric_that_overflows_fails_alone_and_an_infinite_result_is_left_out(store, caplog):
    """Issue 28: one derived metric whose evaluation overflows stopped every other metric
    and every rule; an infinite result was dropped without a word."""
    store.observations.upsert(
        [Observation("huge", "2024-06", 1e308), Observation("huge", "2024-07", 1e308),
         Observation("huge", "2024-08", 1.0)],
        snapshot_id=None,
    )  # fmt: skip
    metrics = {
        "a-overflows": DerivedMetric(name="a-overflows", expression='rolling("huge", 2, sum)'),
        "b-infinite": DerivedMetric(name="b-infinite", expression='"huge" * 10'),
        "c-half": DerivedMetric(name="c-half", expression='"huge" / 2'),
    }
    report = derive(store, metrics)
    [error] = report.errors
    assert "derived metric 'a-overflows' could not be computed: OverflowError" in error
    assert current(store, "b-infinite") == {"2024-08": (10.0, ())}
    assert current(store, "c-half") == {"2024-06": (5e307, ()), "2024-07": (5e307, ()),
                                        "2024-08": (0.5, ())}  # fmt: skip
    notes = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert notes == [
        "derived metric 'b-infinite': 2 period(s) left out, the result is not a finite number "
        "(2024-06, 2024-07)"
    ]


def test_a_windows_inputs_are_named_once_each_and_read_as_pairs(store):
    """A derived value names its input vintages once each (a series added to itself
    too), one row per value, read back as (value, input) pairs by `derived_inputs`."""
    days = [f"2024-05-{d:02d}" for d in range(1, 6)]
    store.observations.upsert([Observation("a.daily", d, 10 * i) for i, d in enumerate(days)],
                              snapshot_id=None)  # fmt: skip
    metrics = {**metric("twice", '"a.daily" + "a.daily"'),
               **metric("week", 'rolling("twice", "3d", sum)')}  # fmt: skip
    derive(store, metrics)
    ids = {p.period: p.id for p in store.observations.series("twice")}
    [week] = [p for p in store.observations.series("week") if p.period == "2024-05-05"]
    assert week.value == 2 * (20 + 30 + 40)
    assert [p.period for p in store.derived.inputs(week.id)] == days[2:]
    pairs = store.db.conn.execute(
        "SELECT input_id FROM derived_inputs WHERE observation_id = ? ORDER BY 1", [week.id]
    ).fetchall()
    assert pairs == [(ids[d],) for d in days[2:]]
    [twice] = [p for p in store.observations.series("twice") if p.period == "2024-05-01"]
    assert [(p.metric, p.period) for p in store.derived.inputs(twice.id)] == [
        ("a.daily", "2024-05-01")
    ]  # named twice in the expression, once here
    rows = store.db.conn.execute("SELECT COUNT(*) FROM derived_input_lists").fetchone()[0]
    assert rows == len(days) + len(days) - 2  # one a value: 5 sums, 3 full windows


@pytest.mark.parametrize("enabled", [True, False])
def test_a_derivation_leaves_the_garbage_collector_as_it_found_it(store, enabled):
    """derive() pauses the cyclic garbage collector while it computes (bench: 1.5 CPU s
    less): it is back on afterwards, after a failing metric too, and off if it was off."""
    store.observations.upsert([Observation("huge", "2024-06", 1e308)], snapshot_id=None)
    store.observations.upsert([Observation("huge", "2024-07", 1e308)], snapshot_id=None)
    metrics = {"sum": DerivedMetric(name="sum", expression='rolling("huge", 2, sum)'),
               "half": DerivedMetric(name="half", expression='"huge" / 2')}  # fmt: skip
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        report = derive(store, metrics)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert len(report.errors) == 1 and current(store, "half")["2024-07"] == (5e307, ())


def test_a_window_recomputed_from_a_new_day_stores_that_day_alone(store):
    """An incremental derivation reads back what its window covers (all of the series for
    a window counted in periods), and stores from the changed day on: the earlier windows
    it computed again stay as they were."""
    days = [f"2024-05-{d:02d}" for d in range(1, 8)]
    store.observations.upsert([Observation("a.daily", d, 10 * i) for i, d in enumerate(days, 1)
                               if i < 7], snapshot_id=None)  # fmt: skip
    metrics = metric("week", 'rolling("a.daily", 3, mean)')
    assert derive(store, metrics).new == 4
    store.observations.upsert([Observation("a.daily", days[6], 70)], snapshot_id=None)
    report = derive(store, metrics)
    assert (report.new, report.revised, report.errors) == (1, 0, [])
    assert current(store, "week")["2024-05-07"] == (60.0, ())
    assert [len(store.observations.history("week", d)) for d in days[2:]] == [1] * 5


def test_a_number_on_either_side_and_a_division_by_zero(store):
    """A number before or after a series (a minus sign is -1 times it) keeps the series'
    flags and inputs; a period divided by zero is left out."""
    store.observations.upsert(
        [Observation("a", "2024-05-01", 4.0, flags=("estimated",)),
         Observation("a", "2024-05-02", 0.0)],
        snapshot_id=None,
    )  # fmt: skip
    metrics = {**metric("minus", '-"a"'), **metric("per-a", '100 / "a"'),
               **metric("tenth", '"a" / 10')}  # fmt: skip
    assert derive(store, metrics).errors == []
    assert current(store, "minus") == {"2024-05-01": (-4.0, ("estimated",)),
                                       "2024-05-02": (0.0, ())}  # fmt: skip
    assert current(store, "per-a") == {"2024-05-01": (25.0, ("estimated",))}
    assert current(store, "tenth") == {"2024-05-01": (0.4, ("estimated",)),
                                       "2024-05-02": (0.0, ())}  # fmt: skip
    [a] = [p for p in store.observations.series("a") if p.period == "2024-05-01"]
    [per_a] = store.observations.series("per-a")
    assert [p.id for p in store.derived.inputs(per_a.id)] == [a.id]
