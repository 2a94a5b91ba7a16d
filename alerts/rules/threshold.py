"""Threshold: a value, or a rolling mean/sum/min/max over N periods, at or above (or at
or below) a level — resolving at another level (hysteresis), optionally only after N
periods in a row. The 2024 border proclamation is one such rule: it activates when the
7-day mean is at or above 2,500 and lifts after 28 days in a row below 1,500."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from alerts.drawing import AGGREGATES, Drawing, Level
from alerts.rule import Step
from alerts.rules.series import ReplayedRule
from alerts.view import View
from storage import Point
from storage.formatting import number
from storage.periods import Period


@dataclass(frozen=True, kw_only=True)
class Threshold(ReplayedRule, kind="threshold"):
    """A value or rolling window at or above / at or below a level, with hysteresis."""

    above: float | None = field(
        default=None, metadata={"help": "Fire when the value is at or above this level."}
    )
    below: float | None = field(
        default=None, metadata={"help": "Fire when the value is at or below this level."}
    )
    resolve_below: float | None = field(
        default=None,
        metadata={"help": "With `above`: resolve only once under this level (default: above)."},
    )
    resolve_above: float | None = field(
        default=None,
        metadata={"help": "With `below`: resolve only once over this level (default: below)."},
    )
    window: int = field(
        default=1, metadata={"help": "Judge an aggregate over this many periods (7: a week)."}
    )
    aggregate: Literal["last", "mean", "sum", "min", "max"] = field(
        default="last", metadata={"help": "How the window is combined: mean, sum, min, max."}
    )

    def problems(self) -> list[str]:
        found = super().problems()
        if (self.above is None) == (self.below is None):
            found.append("set exactly one of `above` or `below`")
        if self.above is not None and self.resolve_above is not None:
            found.append("`resolve_above` goes with `below`; with `above` use `resolve_below`")
        if self.below is not None and self.resolve_below is not None:
            found.append("`resolve_below` goes with `above`; with `below` use `resolve_above`")
        if (
            self.above is not None
            and self.resolve_below is not None
            and self.resolve_below > self.above
        ):
            found.append("`resolve_below` must not be higher than `above`")
        if (
            self.below is not None
            and self.resolve_above is not None
            and self.resolve_above < self.below
        ):
            found.append("`resolve_above` must not be lower than `below`")
        if self.window < 1:
            found.append("window must be at least 1")
        if self.window > 1 and self.aggregate == "last":
            found.append("a window of several periods needs aggregate = mean, sum, min or max")
        return found

    @property
    def level(self) -> float:
        return self.above if self.above is not None else self.below  # type: ignore[return-value]

    @property
    def resolve_level(self) -> float:
        if self.above is not None:
            return self.resolve_below if self.resolve_below is not None else self.above
        return self.resolve_above if self.resolve_above is not None else self.level

    def lookback(self) -> int:
        return self.window

    def measure(self) -> str:
        if self.window == 1:
            return "value"
        return f"{self.window}-period {self.aggregate}"

    def drawing(self) -> Drawing:
        direction = "above" if self.above is not None else "below"
        levels = [Level(direction, self.level)]
        if self.resolve_level != self.level:
            resolve_key = "resolve_below" if direction == "above" else "resolve_above"
            levels.append(Level(resolve_key, self.resolve_level, resolves=True))
        return Drawing(tuple(levels), self.window, self.aggregate, self.measure())

    def judge(self, metric: str, points: Sequence[Point], start: int, view: View) -> Iterator[Step]:
        aggregate = AGGREGATES[self.aggregate]
        drawing = self.drawing()
        for i in range(max(start, self.window - 1), len(points)):
            value = aggregate([p.value for p in points[i - self.window + 1 : i + 1]])
            previous = None
            if i >= self.window:
                previous = aggregate([p.value for p in points[i - self.window : i]])
            if self.above is not None:
                fire, clear = value >= self.above, value < self.resolve_level
                relation = "at or above" if fire else "below"
            else:
                fire, clear = value <= self.level, value > self.resolve_level
                relation = "at or below" if fire else "above"
            shown = self.level if fire or not clear else self.resolve_level
            measured = drawing.measured(Period(points[i].period).grain)
            yield Step(
                series=metric,
                period=points[i].period,
                fire=fire,
                clear=clear,
                value=value,
                says=f"{measured} {number(value)} is {relation} {number(shown)}",
                facts={
                    "threshold": self.level,
                    "resolve_threshold": self.resolve_level,
                    "direction": "above" if self.above is not None else "below",
                    "measure": measured,
                    "window": self.window,
                    "aggregate": self.aggregate,
                    "previous_value": previous,
                    "previous_period": points[i - 1].period if i >= 1 else None,
                    "latest_value": points[i].value,
                },
                snapshot_id=points[i].snapshot_id,
            )
