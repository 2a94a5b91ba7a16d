"""Change: how much a series moved against the previous period, or against the same
period a year earlier — in units or percent."""

from dataclasses import dataclass, field
from typing import Literal

from alerts.rule import Judged, Step
from alerts.rules.series import ReplayedRule
from alerts.view import View
from core.formatting import number
from core.periods import Period
from storage import Values


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

    def judge(self, metric: str, series: Values, start: int, view: View) -> Judged:
        periods, values = series.periods, series.values
        if self.compare == "previous":
            bases = {periods[i]: (periods[i - 1], values[i - 1]) for i in range(1, len(periods))}
        else:
            earlier = {p: Period(p).year_earlier() for p in periods[start:]}
            found = view.points_at(metric, [e.text for e in earlier.values() if e])
            bases = {
                period: (found[e.text].period, found[e.text].value)
                for period, e in earlier.items()
                if e and e.text in found
            }
        against = "the previous period" if self.compare == "previous" else "a year earlier"
        steps = []
        for i in range(start, len(periods)):
            period, value = periods[i], values[i]
            base = bases.get(period)
            if base is None:
                continue
            base_period, base_value = base
            delta = value - base_value
            if self.by == "percent":
                if base_value == 0:
                    continue
                change = 100 * delta / abs(base_value)
                shown = f"{change:+.1f}%"
            else:
                change, shown = delta, f"{'+' if delta >= 0 else '-'}{number(abs(delta))}"
            fire = (self.rise is not None and change >= self.rise) or (
                self.fall is not None and change <= -self.fall
            )
            steps.append(
                Step.either(
                    series=metric,
                    period=period,
                    fire=fire,
                    value=value,
                    says=(
                        f"{number(value)} for {period} is {shown} against {against} "
                        f"({base_period}: {number(base_value)})"
                    ),
                    facts={
                        "change": change,
                        "by": self.by,
                        "compare": self.compare,
                        "threshold": self.rise if change >= 0 else self.fall,
                        "previous_value": base_value,
                        "previous_period": base_period,
                        "previous_label": "compared with",  # the base the change is from
                    },
                    snapshot_id=series.snapshot_ids[i],
                )
            )
        return Judged.of(metric, steps)
