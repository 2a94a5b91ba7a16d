"""Threshold: a value, or a rolling mean/sum/min/max over a window, compared with a level
(`above`, `at_or_above`, `below`, `at_or_below`), resolving at another level (hysteresis)
compared as configured too (`resolve_below`, `resolve_at_or_below`, ...).

A window is a number of stored periods (`window = 7`) or calendar days (`window = "7d"`):
a calendar window covers exactly those days and is incomplete when one is missing — the
rule then has no data for that day (see `no_data`), it never stretches over the gap.

The 2024 border proclamation (as amended from 1 October 2024) is one such rule: in force
when the 7-day mean is at or above 2,500; lifted 14 days after that mean has stayed below
1,500 for 28 days in a row."""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Literal

from alerts.drawing import AGGREGATES, Drawing, Level
from alerts.rule import Step
from alerts.rules.series import ReplayedRule
from alerts.view import View
from alerts.windows import Span, calendar_rolling
from storage import Point
from storage.formatting import number
from storage.periods import Period

# key -> (comparison in words, test)
COMPARISONS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "above": ("above", lambda value, level: value > level),
    "at_or_above": ("at or above", lambda value, level: value >= level),
    "below": ("below", lambda value, level: value < level),
    "at_or_below": ("at or below", lambda value, level: value <= level),
}
OPPOSITE = {"above": "at_or_below", "at_or_above": "below", "below": "at_or_above",
            "at_or_below": "above"}  # fmt: skip
UPWARD = ("above", "at_or_above")


@dataclass(frozen=True, kw_only=True)
class Threshold(ReplayedRule, kind="threshold"):
    """A value or rolling window compared with a level, with hysteresis."""

    above: float | None = field(default=None, metadata={"help": "Fire when the value is above."})
    at_or_above: float | None = field(
        default=None, metadata={"help": "Fire when the value is at or above this level."}
    )
    below: float | None = field(default=None, metadata={"help": "Fire when the value is below."})
    at_or_below: float | None = field(
        default=None, metadata={"help": "Fire when the value is at or below this level."}
    )
    resolve_above: float | None = field(
        default=None, metadata={"help": "With below/at_or_below: resolve once above this."}
    )
    resolve_at_or_above: float | None = field(
        default=None, metadata={"help": "With below/at_or_below: resolve once at or above."}
    )
    resolve_below: float | None = field(
        default=None, metadata={"help": "With above/at_or_above: resolve once below this."}
    )
    resolve_at_or_below: float | None = field(
        default=None, metadata={"help": "With above/at_or_above: resolve once at or below."}
    )
    window: Span = field(
        default=Span(periods=1),
        metadata={"help": "Judge an aggregate over stored periods (7) or calendar days ('7d')."},
    )
    aggregate: Literal["last", "mean", "sum", "min", "max"] = field(
        default="last", metadata={"help": "How the window is combined: mean, sum, min, max."}
    )

    def problems(self) -> list[str]:
        found = super().problems()
        fire = [key for key in COMPARISONS if getattr(self, key) is not None]
        resolve = [key for key in COMPARISONS if getattr(self, f"resolve_{key}") is not None]
        if len(fire) != 1:
            found.append("set exactly one of `above`, `at_or_above`, `below` or `at_or_below`")
        if len(resolve) > 1:
            found.append("set at most one resolve level")
        if len(fire) == 1 and len(resolve) == 1:
            upward = fire[0] in UPWARD
            if (resolve[0] in UPWARD) == upward:
                way = "below" if upward else "above"
                wanted = f"{way} or resolve_at_or_{way}"
                found.append(
                    f"`resolve_{resolve[0]}` goes the same way as `{fire[0]}`: use resolve_{wanted}"
                )
            elif upward and self.resolve_level > self.level:
                found.append(f"`resolve_{resolve[0]}` must not be higher than `{fire[0]}`")
            elif not upward and self.resolve_level < self.level:
                found.append(f"`resolve_{resolve[0]}` must not be lower than `{fire[0]}`")
        if self.window.length < 1:
            found.append("window must be at least 1")
        if self.window.length > 1 and self.aggregate == "last":
            found.append("a window of several periods needs aggregate = mean, sum, min or max")
        return found

    @cached_property
    def comparison(self) -> str:
        return next((key for key in COMPARISONS if getattr(self, key) is not None), "above")

    @cached_property
    def resolve_comparison(self) -> str:
        given = (key for key in COMPARISONS if getattr(self, f"resolve_{key}") is not None)
        return next(given, OPPOSITE[self.comparison])

    @cached_property
    def level(self) -> float:
        return getattr(self, self.comparison)

    @cached_property
    def resolve_level(self) -> float:
        given = getattr(self, f"resolve_{self.resolve_comparison}", None)
        return self.level if given is None else given

    @cached_property
    def facts(self) -> dict:
        """What every alert of this rule tells templates (the levels, the measure)."""
        return {
            "threshold": self.level,
            "resolve_threshold": self.resolve_level,
            "direction": "above" if self.comparison in UPWARD else "below",
            "comparison": COMPARISONS[self.comparison][0],
            "resolve_comparison": COMPARISONS[self.resolve_comparison][0],
            "measure": self.measure(),
            "window": self.window.length,
            "window_days": self.window.calendar,
            "aggregate": self.aggregate,
        }

    def lookback(self) -> int:
        return self.window.length

    def measure(self) -> str:
        if self.window.length == 1 and not self.window.calendar:
            return "value"
        unit = "day" if self.window.calendar else "period"
        return f"{self.window.length}-{unit} {self.aggregate}"

    def drawing(self) -> Drawing:
        levels = [Level(self.comparison, self.level)]
        if self.resolve_level != self.level:
            key = f"resolve_{self.resolve_comparison}"
            levels.append(Level(key, self.resolve_level, resolves=True))
        return Drawing(tuple(levels), self.window.length, self.aggregate, self.measure())

    def judge(self, metric: str, points: Sequence[Point], start: int, view: View) -> Iterator[Step]:
        if self.window.calendar:
            yield from self._judge_days(metric, points, start)
            return
        aggregate, size = AGGREGATES[self.aggregate], self.window.length
        for i in range(max(start, size - 1), len(points)):
            value = aggregate([p.value for p in points[i - size + 1 : i + 1]])
            previous = aggregate([p.value for p in points[i - size : i]]) if i >= size else None
            yield self._step(metric, points[i], value, previous, points[i - 1] if i else None)

    def _judge_days(self, metric: str, points: Sequence[Point], start: int) -> Iterator[Step]:
        if start >= len(points):
            return
        by_period = {point.period: point for point in points[max(start - 1, 0) :]}
        first = date.fromisoformat(points[start].period) if start > 0 else None
        previous: tuple[float | None, Point | None] = (None, None)
        days = calendar_rolling(
            ((p.period, p.value) for p in points), self.window.days, self.aggregate, first=first
        )
        for period, value, missing in days:
            point = by_period.get(period)
            if value is None or point is None:
                shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
                yield Step(
                    series=metric, period=period, fire=False, clear=False, value=None,
                    says=f"the {self.measure()} to {period} is incomplete (missing {shown})",
                    facts=self.facts, missing=True,
                )  # fmt: skip
                previous = (None, None)
                continue
            yield self._step(metric, point, value, *previous)
            previous = (value, point)

    def _step(
        self,
        metric: str,
        point: Point,
        value: float,
        previous: float | None,
        before: Point | None,
    ) -> Step:
        fire_words, fires = COMPARISONS[self.comparison]
        clear_words, clears = COMPARISONS[self.resolve_comparison]
        level, resolve = self.level, self.resolve_level
        fire, clear = fires(value, level), clears(value, resolve)

        def words() -> str:  # '7-day mean' on a daily series, '7-month mean' on a monthly one
            return self.drawing().measured(Period(point.period).grain)

        def says() -> str:  # formatted only if told: most periods change nothing
            measured = f"{words()} {number(value)} is"
            if fire:
                return f"{measured} {fire_words} {number(level)}"
            if clear:
                return f"{measured} {clear_words} {number(resolve)}"
            if resolve == level:
                return f"{measured} not {fire_words} {number(level)}"
            return f"{measured} not {clear_words} {number(resolve)}"

        def facts() -> dict:
            return {
                **self.facts,
                "measure": words(),
                "previous_value": previous,
                "previous_period": before.period if before else None,
                "latest_value": point.value,
                "flags": list(point.flags),
            }

        return Step(metric, point.period, fire, clear, value, says, facts, point.snapshot_id)
