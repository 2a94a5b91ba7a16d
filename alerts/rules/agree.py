"""Agree: two or more metrics that should carry the same figure — one agency's number
republished by another (ICE's detention workbook and TRAC's detention record), or two
releases of one agency (CBP's newsroom table and its CSV). It fires when they differ by
more than a tolerance: a revision one of them missed, a misread page, a changed
definition — what a reporter wants to know before quoting either.

Each period of the first metric is compared with the same period of the others, or, with
`within_days`, with their figure dated nearest to it within that many days (ICE dates its
workbook by the day it was published, TRAC by the day of the data). A period with no
counterpart has no data to judge (see `no_data`)."""

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date

from alerts.rule import Judged, StatefulRule, StateOf, Step
from alerts.view import View
from core.formatting import number
from series.drawing import Drawing
from storage import Cursor, Values
from storage.snapshots import Provenance

GLOB = "*?["


@dataclass(frozen=True)
class Figure:
    """One metric's figure for a compared period, and the snapshot it came from."""

    metric: str
    period: str
    value: float
    snapshot_id: int | None


@dataclass(frozen=True, kw_only=True)
class Agree(StatefulRule, kind="agree"):
    """Metrics that should carry the same figure, compared period by period."""

    metrics: tuple[str, ...] = field(
        metadata={
            "help": "The metrics that should agree (plain names, two or more); each period "
            "of the first is compared with the others, e.g. ['ice.detained.total.total', "
            "'trac.detention.total']."
        }
    )
    within_days: int = field(
        default=0,
        metadata={
            "help": "0: compare the same period. N: compare each dated period of the first "
            "metric with the others' figure dated nearest to it, at most N days apart."
        },
    )
    since: str = field(
        default="",
        metadata={
            "help": "Compare periods from this one on (e.g. '2023-06', when the two "
            "definitions became the same); empty: all."
        },
    )
    tolerance: float = field(
        default=0.0, metadata={"help": "The largest difference that still agrees (absolute)."}
    )
    tolerance_percent: float | None = field(
        default=None,
        metadata={"help": "The largest difference that still agrees, in percent of the first."},
    )

    @property
    def series(self) -> str:
        """The one alert series of this rule: its metrics, by name."""
        return " = ".join(self.metrics)

    def problems(self) -> list[str]:
        found = super().problems()
        if len(self.metrics) < 2:
            found.append("name at least two metrics to compare")
        if any(char in metric for metric in self.metrics for char in GLOB):
            found.append("metrics are plain names, not patterns")
        if self.within_days < 0 or self.tolerance < 0 or (self.tolerance_percent or 0) < 0:
            found.append("within_days, tolerance and tolerance_percent cannot be negative")
        if self.tolerance and self.tolerance_percent is not None:
            found.append("set tolerance or tolerance_percent, not both")
        return found

    def reads(self) -> tuple[str, ...]:
        return self.metrics

    def watches(self, metric: str) -> bool:
        return metric in self.metrics

    def drawing(self) -> Drawing:
        return Drawing()

    def allowed(self, value: float) -> float:
        if self.tolerance_percent is not None:
            return abs(value) * self.tolerance_percent / 100
        return self.tolerance

    def observe(self, view: View, cursor: Cursor, state_of: StateOf) -> Iterator[Judged]:
        """When any of the metrics has new values: judge the first metric's periods from
        the one judged last on (all of them the first time)."""
        if not any(view.changed_metrics(m, cursor.observation_id) for m in self.metrics):
            return
        columns = [view.history(metric) for metric in self.metrics]
        last = state_of(self.series).period
        first, others = columns[0], [_Aligned(values, self.within_days) for values in columns[1:]]
        steps = [
            self._step(view, first, i, others)
            for i, period in enumerate(first.periods)
            if period >= max(last or "", self.since)
        ]
        yield Judged.of(self.series, steps)

    def _step(self, view: View, first: Values, i: int, others: list["_Aligned"]) -> Step:
        own = Figure(first.metric, first.periods[i], first.values[i], first.snapshot_ids[i])
        matched = [other.at(own.period) for other in others]
        missing = [other.values.metric for other, figure in zip(others, matched, strict=True)
                   if figure is None]  # fmt: skip
        if missing:
            apart = f" within {self.within_days} days" if self.within_days else ""
            return Step(
                self.series, own.period, fire=False, clear=False, value=own.value,
                says=f"{', '.join(missing)} has no figure for {own.period}{apart} to compare",
                snapshot_id=own.snapshot_id, missing=True,
            )  # fmt: skip
        figures = [own, *(figure for figure in matched if figure is not None)]
        allowed = self.allowed(own.value)
        worst = max(figures[1:], key=lambda figure: abs(figure.value - own.value))
        differs = abs(worst.value - own.value) > allowed
        told = _Told(self, view, figures, worst, allowed, differs)
        return Step(self.series, own.period, differs, not differs, own.value, told.says,
                    told.facts, own.snapshot_id)  # fmt: skip


class _Aligned:
    """One compared metric's figures, found by period (or by the nearest date)."""

    def __init__(self, values: Values, within_days: int) -> None:
        self.values, self.within_days = values, within_days
        self.index = {period: i for i, period in enumerate(values.periods)}
        self.days = [(_day(period), i) for i, period in enumerate(values.periods)]

    def at(self, period: str) -> Figure | None:
        i = self.index.get(period)
        if i is None and self.within_days and (day := _day(period)) is not None:
            near = [(abs((other - day).days), i) for other, i in self.days if other is not None]
            best = min(near, default=None)
            i = best[1] if best is not None and best[0] <= self.within_days else None
        if i is None:
            return None
        values = self.values
        return Figure(values.metric, values.periods[i], values.values[i], values.snapshot_ids[i])


def _day(period: str) -> date | None:
    try:
        return date.fromisoformat(period)
    except ValueError:
        return None


@dataclass(slots=True)
class _Told:
    """A compared period's words and facts, built only when told."""

    rule: Agree
    view: View
    figures: list[Figure]
    worst: Figure
    allowed: float
    differs: bool

    def _named(self, figure: Figure) -> str:
        where = self.view.store.snapshots.provenance(figure.snapshot_id)
        fetched = f", fetched {where.fetched_at[:10]}" if where else ""
        source = where.source if where else "?"
        return (
            f"{figure.metric} {figure.period} = {number(figure.value)} ({source}, snapshot "
            f"{figure.snapshot_id}{fetched})"
        )

    def says(self) -> str:
        own, worst = self.figures[0], self.worst
        gap = abs(worst.value - own.value)
        if self.differs:
            return (
                f"{self._named(own)} but {self._named(worst)}: {number(gap)} apart "
                f"(tolerance {number(self.allowed)})"
            )
        return f"{self._named(own)} agrees with {self._named(worst)}"

    def facts(self) -> dict:
        return {
            "figures": [
                {
                    **asdict(figure),
                    **_fetch(self.view.store.snapshots.provenance(figure.snapshot_id)),
                }
                for figure in self.figures
            ],
            "difference": abs(self.worst.value - self.figures[0].value),
            "tolerance": self.allowed,
            "within_days": self.rule.within_days,
        }


def _fetch(provenance: Provenance | None) -> dict:
    """Where a figure came from, for templates: the source, its fetch and URL."""
    return asdict(provenance) if provenance else {}
