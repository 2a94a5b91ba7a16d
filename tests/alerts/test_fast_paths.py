"""The fast paths of a rule's walk over long history, held to the straightforward ones on
awkward series (gaps, revised days, flags, fractions, -0.0): one-pass rolling windows
against an aggregate of each slice, a judged batch against a Step per period, the
machine skipping quiet periods against `advance` on every one, a derived calendar window
against its days counted back. A bug in a fast path fails here, whatever the data."""

import random
from datetime import date, timedelta

import pytest

from alerts.machine import advance, advance_all
from alerts.rule import Judged
from alerts.rules.threshold import Threshold
from series.drawing import AGGREGATES
from series.expression import Series, Value, _rolling, _window, compute, parse
from series.windows import Span, consecutive_days, rolling
from storage import AlertState, Values

START = date(2024, 1, 1)


def numbers(rng: random.Random, n: int, kind: str) -> list[float]:
    pick = {
        "whole": lambda: float(rng.randint(-3000, 9000)),
        "fractions": lambda: rng.uniform(-1e4, 1e4) * rng.choice([1, 1e-9, 1e9]),
        "mixed": lambda: rng.choice([1e16, -1e16, 0.1, 1 / 3, 7.0, 2.5]),
        "zeros": lambda: rng.choice([0.0, -0.0, 1.0]),
    }[kind]
    return [pick() for _ in range(n)]


@pytest.mark.parametrize("kind", ["whole", "fractions", "mixed", "zeros"])
@pytest.mark.parametrize("aggregate", ["mean", "sum", "min", "max"])
def test_rolling_in_one_pass_equals_the_aggregate_of_each_slice(kind, aggregate):
    rng = random.Random(f"{kind}{aggregate}")
    for _ in range(200):
        values = numbers(rng, rng.randint(0, 40), kind)
        for size in (1, 2, 7, 9):
            expected = [
                AGGREGATES[aggregate](values[i - size + 1 : i + 1]) if i >= size - 1 else None
                for i in range(len(values))
            ]
            assert [repr(v) for v in rolling(values, size, aggregate)] == [
                repr(v) for v in expected
            ], (values, size)  # repr: bit for bit, the sign of zero included


def awkward_series(rng: random.Random, n: int = 160) -> Values:
    """Daily values around 100 with gaps (single days and a week), flags and snapshots."""
    periods, values, flags, snapshots = [], [], [], []
    day = START
    for _ in range(n):
        day += timedelta(days=rng.choice([1] * 12 + [2, 8]))
        periods.append(day.isoformat())
        values.append(float(rng.randint(60, 140)) + rng.choice([0, 0, 0, 0.5, 1 / 3]))
        flags.append(rng.choice(["", "", "", "estimated", "footnote:1,partial"]))
        snapshots.append(rng.choice([None, rng.randint(1, 50)]))
    return Values("m", periods, values, flags, snapshots)


RULES: list[dict] = [
    {"above": 110},
    {"at_or_above": 110, "window": 1, "aggregate": "mean"},
    {"above": 105, "resolve_below": 95, "window": 7, "aggregate": "mean"},
    {"below": 90, "resolve_at_or_above": 100, "window": 2, "aggregate": "min"},
    {"above": 700, "window": 7, "aggregate": "sum", "for_": 3, "resolve_for": 7},
    {"above": 120, "window": 3, "aggregate": "max", "for_": 2},
    {"above": 102, "window": "7d", "aggregate": "mean"},
    {
        "at_or_above": 103,
        "resolve_below": 97,
        "window": "7d",
        "aggregate": "mean",
        "for_": "3d",
        "resolve_for": "5d",
        "lift_after": "4d",
    },
    {"above": 101, "window": "3d", "aggregate": "mean", "no_data": "alert"},
    {"above": 104, "window": "7d", "aggregate": "sum", "no_data": "resolve", "resolve_for": 2},
    {"above": 100, "lift_after": "6d", "resolve_below": 96},
]


def rule(keys: dict) -> Threshold:
    return Threshold(name="r", metric="m", **keys)


def reference_steps(threshold: Threshold, series: Values) -> list[tuple]:
    """(period, value or None, fire, clear) per judged period, computed the plain way: the
    aggregate of each window's slice (periods), or of the days counted back (calendar)."""
    combine = AGGREGATES[threshold.aggregate]
    found = []
    if not threshold.window.calendar:
        size = threshold.window.length
        for i in range(size - 1, len(series)):
            value = combine(series.values[i - size + 1 : i + 1])
            found.append((series.periods[i], value))
    else:
        by_day = dict(zip(series.periods, series.values, strict=True))
        days = threshold.window.days
        first, last = date.fromisoformat(series.periods[0]), date.fromisoformat(series.periods[-1])
        day = first + timedelta(days=days - 1)
        while day <= last:
            window = [(day - timedelta(days=k)).isoformat() for k in range(days - 1, -1, -1)]
            complete = all(d in by_day for d in window)
            found.append((day.isoformat(), combine([by_day[d] for d in window]) if complete
                          else None))  # fmt: skip
            day += timedelta(days=1)
    fires = {"above": float.__gt__, "at_or_above": float.__ge__, "below": float.__lt__,
             "at_or_below": float.__le__}  # fmt: skip
    return [
        (period, value, value is not None and fires[threshold.comparison](value, threshold.level),
         value is not None
         and fires[threshold.resolve_comparison](value, threshold.resolve_level))
        for period, value in found
    ]  # fmt: skip


@pytest.mark.parametrize("keys", RULES)
def test_a_judged_batch_says_per_period_what_a_plain_reading_finds(keys):
    threshold = rule(keys)
    for seed in range(5):
        series = awkward_series(random.Random(seed))
        judged = threshold.judge("m", series, 0, None)  # type: ignore[arg-type]
        got = [
            (judged.periods[i], judged.values[i], judged.fire[i], judged.clear[i])
            for i in range(len(judged))
        ]
        assert [(p, None if v is None else repr(v), f, c) for p, v, f, c in got] == [
            (p, None if v is None else repr(v), f, c) for p, v, f, c in reference_steps(
                threshold, series)
        ]  # fmt: skip
        for i in range(len(judged)):  # each Step agrees with its row
            step = judged.step(i)
            assert (step.period, step.value, step.fire, step.clear, step.missing) == (
                judged.periods[i], judged.values[i], judged.fire[i], judged.clear[i],
                judged.missing[i],
            )  # fmt: skip


def walk(judged: Judged, threshold: Threshold, state: AlertState, fast: bool) -> list[tuple]:
    if fast:
        changes = advance_all(state, judged, threshold, "at")
    else:
        changes = [c for i in range(len(judged)) for c in advance(state, judged.step(i),
                                                                  threshold, "at")]  # fmt: skip
    return [(c.kind, c.period, c.says, c.step.value, c.step.details()) for c in changes]


def snapshot(state: AlertState) -> tuple:
    return state.state, state.value, state.period, repr(sorted(state.detail.items()))


@pytest.mark.parametrize("keys", RULES)
def test_the_machine_skipping_quiet_periods_decides_what_advance_on_each_decides(keys):
    threshold = rule(keys)
    for seed in range(8):
        rng = random.Random(seed)
        full, cut = awkward_series(rng, 180), 160
        series = Values("m", full.periods[:cut], full.values[:cut], full.flags[:cut],
                        full.snapshot_ids[:cut])  # fmt: skip
        states = [AlertState("r", "m"), AlertState("r", "m")]
        found = [
            walk(threshold.judge("m", series, 0, None), threshold, state, fast)  # type: ignore[arg-type]
            for state, fast in zip(states, (True, False), strict=True)
        ]
        assert found[0] == found[1]
        assert snapshot(states[0]) == snapshot(states[1])
        # Then a replay from the last period judged, revised, with days after it: the
        # period judged again replaces its judgement (`same`) in both walks alike.
        values = list(full.values)
        values[cut - 1] += rng.choice([-40, 40])
        later = Values("m", full.periods, values, full.flags, full.snapshot_ids)
        found = [
            walk(threshold.judge("m", later, cut - 1, None), threshold, state, fast)  # type: ignore[arg-type]
            for state, fast in zip(states, (True, False), strict=True)
        ]
        assert found[0] == found[1]
        assert snapshot(states[0]) == snapshot(states[1])


def test_the_walks_meet_firing_lifting_and_no_data_on_these_series():
    """The comparisons above are not vacuous: the awkward series fire, lift and miss."""
    kinds = set()
    for keys in RULES:
        threshold = rule(keys)
        for seed in range(8):
            judged = threshold.judge("m", awkward_series(random.Random(seed)), 0, None)  # type: ignore[arg-type]
            changes = walk(judged, threshold, AlertState("r", "m"), True)
            kinds |= {kind for kind, *_ in changes}
            if any(judged.missing):
                kinds.add("missing")
            if any("lifted" in says for _, _, says, _, _ in changes):
                kinds.add("lifted")
    assert kinds == {"firing", "resolved", "nodata", "missing", "lifted"}


def test_a_derived_calendar_window_names_the_days_counted_back():
    rng = random.Random(7)
    series = awkward_series(rng, 120)
    of = {
        p: Value(v, frozenset({"estimated"}) if f else frozenset(), (i,), p)
        for i, (p, v, f) in enumerate(zip(series.periods, series.values, series.flags,
                                          strict=True))
    }  # fmt: skip
    for aggregate in ("mean", "sum", "min", "max"):
        found = _rolling(of, Span(days=7), aggregate)
        assert found  # the series has complete weeks
        for period, value in found.items():
            last = date.fromisoformat(period)
            days = [(last - timedelta(days=k)).isoformat() for k in range(6, -1, -1)]
            members = [of[d] for d in days]  # KeyError: a day that is not in the window
            assert value.inputs == tuple(i for m in members for i in m.inputs)
            assert value.flags == frozenset().union(*(m.flags for m in members))
            assert value.seen == min(m.seen for m in members)
            expected = AGGREGATES[aggregate]([m.value for m in members])
            assert repr(value.value) == repr(expected)


def gapless_series(rng: random.Random, n: int, kind: str) -> Series:
    """Every day from START: awkward values, some flags, inputs of 1-3 ids (a sum of
    series names several), `seen` sometimes empty."""
    values = numbers(rng, n, kind)
    return {
        (START + timedelta(days=k)).isoformat(): Value(
            values[k],
            rng.choice([frozenset(), frozenset(), frozenset({"estimated"})]),
            tuple(rng.randint(1, 10**6) for _ in range(rng.randint(1, 3))),
            rng.choice(["", (START + timedelta(days=k)).isoformat()]),
        )
        for k in range(n)
    }


@pytest.mark.parametrize("kind", ["whole", "fractions", "mixed", "zeros"])
@pytest.mark.parametrize("aggregate", ["mean", "sum", "min", "max"])
@pytest.mark.parametrize("window", [Span(days=1), Span(days=7), Span(periods=3), Span(days=30)])
def test_a_derived_window_over_every_day_equals_each_window_built_plainly(kind, aggregate, window):
    """`_rolling` over a series without gaps takes each window by index (`_windows`):
    the same value bit for bit, flags, inputs in order and earliest `seen` as `_window`
    over the periods counted back."""
    rng = random.Random(f"{kind}{aggregate}{window}")
    for n in (0, 1, 6, 7, 8, 60):
        of = gapless_series(rng, n, kind)
        periods, size = list(of), window.length
        expected = {
            periods[i]: _window(
                of,
                periods[i - size + 1 : i + 1],
                AGGREGATES[aggregate]([of[p].value for p in periods[i - size + 1 : i + 1]]),
            )
            for i in range(size - 1, n)
        }
        found = _rolling(of, window, aggregate)
        assert list(found) == list(expected)
        for period, value in found.items():
            assert repr(value.value) == repr(expected[period].value)
            assert value[1:] == expected[period][1:]


def test_consecutive_days_are_canonical_days_without_a_gap():
    assert consecutive_days([])
    assert consecutive_days(["2024-02-28", "2024-02-29", "2024-03-01"])
    assert consecutive_days(["2023-12-31", "2024-01-01"])
    assert not consecutive_days(["2024-02-28", "2024-03-01"])  # 29 February missing
    assert not consecutive_days(["2024-01-01", "2024-01-01"])
    assert not consecutive_days(["2024-01-02", "2024-01-01"])
    assert not consecutive_days(["2024-01-01", "2024-W01-2"])  # fromisoformat would take it
    assert not consecutive_days(["20240101", "20240102"])
    assert not consecutive_days(["2024-01", "2024-02"])
    assert not consecutive_days(["2024-01-01", "2024-01-02T00"])


def test_an_arithmetic_value_keeps_the_flags_inputs_and_earliest_date_of_both_sides():
    """`_arithmetic` (inline, per period) against the plain union, concatenation and
    `min(filter(None, ...), default="")` of its two sides' values."""
    rng = random.Random(3)
    stored = {}
    for name in ("a", "b"):
        series = awkward_series(rng, 80)
        stored[name] = Values(
            name, series.periods, series.values, series.flags, series.snapshot_ids,
            ids=[rng.randint(1, 10**6) for _ in series.periods],
            first_seen=[rng.choice(["", "2024-03-01", "2024-02-01T06:00"]) for _ in series.periods],
        )  # fmt: skip
    sides = {name: compute(parse(f'"{name}"'), stored.__getitem__, lambda _: []) for name in stored}
    found = compute(parse('"a" * "b"'), stored.__getitem__, lambda _: [])
    assert list(found) == sorted(sides["a"].keys() & sides["b"].keys())
    assert any(not v.seen for v in found.values()) and any(v.flags for v in found.values())
    for period, value in found.items():
        a, b = sides["a"][period], sides["b"][period]
        assert value == Value(a.value * b.value, a.flags | b.flags, a.inputs + b.inputs,
                              min(filter(None, (a.seen, b.seen)), default=""))  # fmt: skip
