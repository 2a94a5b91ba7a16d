"""What a chart of a series draws, defined once for the alert email, the digest and the
web page's metric chart:

- the values, with revised ones marked;
- per rule that watches the series, what the rule measures when that is not the value
  itself (a 7-day mean), its levels (where it fires, where it resolves), and the periods
  during which its alert was firing, shaded;
- a legend that says which is which.

A rule kind says what it draws once (`Rule.drawing`); `chart()` joins that with the
points and the alert history into a `Chart`, which `series.charts.png` paints for email
and digests and the web page hands to Chart.js as JSON (`Chart.as_json`).

An alert's payload carries its drawing (`Drawing.facts`), so the email chart shows the
levels the rule had when it fired, even if the config changed since."""

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from core import clock
from core.formatting import number
from core.periods import Period, grain_of
from storage import Store

AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "last": lambda values: values[-1],
    "mean": statistics.fmean,
    "sum": math.fsum,
    "min": min,
    "max": max,
}
VALUE_WORDS = {"day": "daily value", "month": "monthly value", "quarter": "quarterly value",
               "fiscal year": "yearly value", "year": "yearly value"}  # fmt: skip
LEVEL_WORDS = {
    "above": "fires above",
    "at_or_above": "fires at or above",
    "below": "fires below",
    "at_or_below": "fires at or below",
    "resolve_above": "resolves above",
    "resolve_at_or_above": "resolves at or above",
    "resolve_below": "resolves below",
    "resolve_at_or_below": "resolves at or below",
}


def rolling(values: Sequence[float], window: int, aggregate: str) -> list[float | None]:
    """The `aggregate` over the last `window` values at each position (None before a full
    window): what a windowed rule compares, and what charts draw."""
    combine = AGGREGATES[aggregate]
    return [
        combine(list(values[i - window + 1 : i + 1])) if i >= window - 1 else None
        for i in range(len(values))
    ]


@dataclass(frozen=True)
class Level:
    """A horizontal line: the config key that sets it (e.g. `above`, `resolve_below`),
    its value, and whether it is where the alert resolves rather than fires."""

    key: str
    value: float
    resolves: bool = False

    @property
    def words(self) -> str:
        """'fires at or above 4,000', 'resolves below 3,000'."""
        return f"{LEVEL_WORDS.get(self.key, self.key.replace('_', ' '))} {number(self.value)}"


@dataclass(frozen=True)
class Drawing:
    levels: tuple[Level, ...] = ()
    window: int = 1
    aggregate: str = "last"
    measure: str = "value"  # or e.g. "7-period mean": what the rule compares

    def judged(self, values: Sequence[float]) -> list[float | None]:
        """The aggregate the rule compares, per period; empty when it compares the value."""
        return rolling(values, self.window, self.aggregate) if self.window > 1 else []

    def measured(self, grain: str) -> str:
        """What the rule compares, in words fit for the series: '7-day mean', 'value'."""
        unit = grain if grain != "period" else "period"
        return self.measure.replace("-period ", f"-{unit.replace(' ', '-')} ")

    def facts(self) -> dict[str, Any]:
        """Kept in an alert's payload (JSON)."""
        return {"drawing": asdict(self)}

    @classmethod
    def from_facts(cls, facts: dict[str, Any]) -> "Drawing | None":
        found = facts.get("drawing")
        if found is None:
            return None
        levels = tuple(Level(**level) for level in found.get("levels", ()))
        return cls(**{**found, "levels": levels})


@dataclass(frozen=True)
class Span:
    """Periods during which a rule's alert was firing: from the period that fired it to
    the one that resolved it (None: still firing)."""

    rule: str
    start: str
    end: str | None = None


@dataclass(frozen=True)
class Line:
    label: str
    values: list[float | None]


@dataclass(frozen=True)
class LevelLine:
    """One horizontal line, labelled for the legend."""

    label: str
    value: float
    resolves: bool


@dataclass(frozen=True)
class Band:
    """A shaded stretch of the chart, by index into the periods (inclusive)."""

    label: str
    first: int
    last: int


@dataclass
class Chart:
    title: str
    periods: list[str]
    values: list[float]
    value_label: str
    revised: list[bool] = field(default_factory=list)
    measured: list[Line] = field(default_factory=list)
    levels: list[LevelLine] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)

    @property
    def grain(self) -> str:
        return grain_of(self.periods)

    @property
    def with_year(self) -> bool:
        """Day ticks name the year when the days are not all of this year: 'Jun 3, 2024'."""
        return {period[:4] for period in self.periods} != {clock.now()[:4]}

    def ticks(self) -> list[str]:
        """A short label per period for the x axis."""
        return [Period(period).tick(with_year=self.with_year) for period in self.periods]

    def value_ticks(self, round_ticks: Sequence[float]) -> list[float]:
        """The y axis' ticks: each level's value, so that the axis names where the alert
        fires and resolves (4,000, 3,000), and the round ticks (ascending, evenly spaced)
        that are not within half a step of a level, where their labels would overlap.
        The web page's chart does the same (jobs/web/static/metric-chart.js, `withLevels`)."""
        levels = {level.value for level in self.levels}
        step = abs(round_ticks[1] - round_ticks[0]) if len(round_ticks) > 1 else 0.0
        kept = [tick for tick in round_ticks if all(abs(tick - v) >= step / 2 for v in levels)]
        return sorted({*kept, *levels})

    def as_json(self) -> dict[str, Any]:
        """For the web page's script: also each period's place on a time axis (`x`): in
        whole periods of the grain; for periods of mixed forms in (decimal) years, `axis`
        then saying so; else in indexes."""
        grain, axis = self.grain, "periods"
        steps = [Period(period).step for period in self.periods]
        years = [Period(period).position for period in self.periods]
        if grain != "period" and None not in steps:
            x: Sequence[float | None] = steps
        elif self.periods and None not in years:
            x, axis = years, "years"
        else:
            x, grain = list(range(len(self.periods))), "period"
        return {**asdict(self), "grain": grain, "axis": axis, "ticks": self.ticks(), "x": x,
                "with_year": self.with_year}  # fmt: skip


def chart(
    title: str,
    points: Sequence[tuple[str, float]],
    drawings: Iterable[tuple[str, Drawing]],
    *,
    spans: Iterable[Span] = (),
    revised: Sequence[bool] = (),
    value_label: str = "",
) -> Chart:
    """The chart of `points` (period, value) for the rules that watch it, each given as
    (rule name, its drawing), with their firing `spans`. Rule names go into the labels
    only when several rules share the chart."""
    drawings = list(drawings)
    periods = [period for period, _ in points]
    values = [value for _, value in points]
    value_label = value_label or VALUE_WORDS.get(grain_of(periods), "value")
    drawn = Chart(title, periods, values, value_label, list(revised))
    named = len(drawings) > 1
    for rule, drawing in drawings:
        suffix = f" ({rule})" if named else ""
        if judged := drawing.judged(values):
            drawn.measured.append(Line(drawing.measured(drawn.grain) + suffix, judged))
        for level in drawing.levels:
            drawn.levels.append(LevelLine(level.words + suffix, level.value, level.resolves))
    if not drawn.revised or len(drawn.revised) != len(periods):
        drawn.revised = [False] * len(periods)
    places = {period: index for index, period in enumerate(periods)}
    for span in spans:
        if span.rule not in dict(drawings):
            continue
        first = places.get(span.start, _after(periods, span.start))
        last = len(periods) - 1
        if span.end is not None:  # the resolving period is the first one no longer firing
            last = max(first or 0, places.get(span.end, len(periods)) - 1)
        if first is not None and first <= last:
            label = f"firing ({span.rule})" if named else "alert firing"
            drawn.bands.append(Band(label, first, last))
    return drawn


def metric_chart(
    store: Store,
    metric: str,
    drawings: Iterable[tuple[str, Drawing]],
    *,
    last: int | None = None,
    as_of: str | None = None,
) -> Chart:
    """The chart of a stored metric (its `last` periods, as known now or at `as_of`),
    with revised values marked and the firing periods its alerts recorded."""
    rows = store.queries.series_with_revisions(metric, as_of=as_of)
    rows = rows[-last:] if last else rows
    entry = store.catalog.metric(metric)
    return chart(
        (entry.label if entry else "") or metric,
        [(row.period, row.value) for row in rows],
        drawings,
        spans=spans(store.alerts.firing_history(metric)),
        revised=[row.revisions > 0 for row in rows],
    )


def spans(history: Iterable[tuple[str, str, str | None]]) -> list[Span]:
    """Firing spans from a series' alert events (rule, 'firing' or 'resolved', period),
    oldest first."""
    open_since: dict[str, str] = {}
    found = []
    for rule, kind, period in history:
        if period is None:
            continue
        if kind == "firing":
            open_since.setdefault(rule, period)
        elif kind == "resolved" and rule in open_since:
            found.append(Span(rule, open_since.pop(rule), period))
    return found + [Span(rule, start) for rule, start in open_since.items()]


def _after(periods: list[str], period: str) -> int | None:
    """The first period at or after `period` (text order is time order for one grain)."""
    return next((index for index, found in enumerate(periods) if found >= period), None)
