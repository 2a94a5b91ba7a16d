"""Change: how much a series moved against the previous period, or against the same
period a year earlier — in units or percent."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from alerts.rule import Step
from alerts.rules.series import ReplayedRule
from alerts.view import View
from storage import Point
from storage.formatting import number
from storage.periods import Period


@dataclass(frozen=True, kw_only=True)
class Change(ReplayedRule, kind="change"):
    """A rise or fall versus the previous period or the same period a year earlier."""

    compare: Literal["previous", "year_ago"] = field(
        default="previous", metadata={"help": "Against the 'previous' period or 'year_ago'."}
    )
    by: Literal["percent", "absolute"] = field(
        default="percent", metadata={"help": "Measure the change in 'percent' or 'absolute'."}
    )
    rise: float | None = field(
        default=None, metadata={"help": "Fire when it rose by at least this much."}
    )
    fall: float | None = field(
        default=None, metadata={"help": "Fire when it fell by at least this much (positive)."}
    )

    def problems(self) -> list[str]:
        found = super().problems()
        if self.rise is None and self.fall is None:
            found.append("set `rise`, `fall` or both")
        for key in ("rise", "fall"):
            value = getattr(self, key)
            if value is not None and value < 0:
                found.append(f"{key} is a size: write it as a positive number")
        return found

    def lookback(self) -> int:
        return 1 if self.compare == "previous" else 0

    def judge(self, metric: str, points: Sequence[Point], start: int, view: View) -> Iterator[Step]:
        new = points[start:]
        if self.compare == "previous":
            bases = {p.period: points[i - 1] for i, p in enumerate(points) if i >= 1}
        else:
            earlier = {p.period: Period(p.period).year_earlier() for p in new}
            found = view.points_at(metric, [e.text for e in earlier.values() if e])
            bases = {
                period: found[e.text] for period, e in earlier.items() if e and e.text in found
            }
        against = "the previous period" if self.compare == "previous" else "a year earlier"
        for point in new:
            base = bases.get(point.period)
            if base is None:
                continue
            delta = point.value - base.value
            if self.by == "percent":
                if base.value == 0:
                    continue
                change = 100 * delta / abs(base.value)
                shown = f"{change:+.1f}%"
            else:
                change, shown = delta, f"{'+' if delta >= 0 else '-'}{number(abs(delta))}"
            fire = (self.rise is not None and change >= self.rise) or (
                self.fall is not None and change <= -self.fall
            )
            yield Step(
                series=metric,
                period=point.period,
                fire=fire,
                clear=not fire,
                value=point.value,
                says=(
                    f"{number(point.value)} for {point.period} is {shown} against {against} "
                    f"({base.period}: {number(base.value)})"
                ),
                facts={
                    "change": change,
                    "by": self.by,
                    "compare": self.compare,
                    "threshold": self.rise if change >= 0 else self.fall,
                    "previous_value": base.value,
                    "previous_period": base.period,
                },
                snapshot_id=point.snapshot_id,
            )
