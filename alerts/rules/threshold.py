"""Threshold: a value, or a rolling mean/sum/min/max over a window, compared with a level
(`above`, `at_or_above`, `below`, `at_or_below`), resolving at another level (hysteresis)
compared as configured too (`resolve_below`, `resolve_at_or_below`, ...).

A window is a number of stored periods (`window = 7`) or calendar days (`window = "7d"`):
a calendar window covers exactly those days and is incomplete when one is missing — the
rule then has no data for that day (see `no_data`), it never stretches over the gap.

The 2024 border proclamation (as amended from 1 October 2024) is one such rule: in force
when the 7-day mean is at or above 2,500; lifted 14 days after that mean has stayed below
1,500 for 28 days in a row."""

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from itertools import repeat
from typing import Literal, cast

from alerts.rule import Judged, Step
from alerts.rules.series import ReplayedRule
from alerts.view import View
from core.formatting import number
from core.periods import Period
from series.drawing import Drawing, Level
from series.windows import Span, calendar_rolling, rolling
from storage import Values
from storage.observations import decode_flags

# key -> (comparison in words, test)
COMPARISONS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "above": ("above", operator.gt),
    "at_or_above": ("at or above", operator.ge),
    "below": ("below", operator.lt),
    "at_or_below": ("at or below", operator.le),
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

    @cached_property
    def _drawn(self) -> Drawing:
        return self.drawing()

    @cached_property
    def _levels_said(self) -> tuple[str, str]:
        """The levels in words, formatted once (a first look tells 600 transitions)."""
        return number(self.level), number(self.resolve_level)

    @cached_property
    def _measured(self) -> dict[str, str]:
        """The measure in words per grain of series ('7-day mean'), formatted once each."""
        return {}

    def judge(self, metric: str, series: Values, start: int, view: View) -> Judged:
        if self.window.calendar:
            return self._judge_days(metric, series, start)
        size = self.window.length
        measured = rolling(series.values, size, self.aggregate)
        first = max(start, size - 1)
        values = cast(list[float], measured[first:])  # from `first` on, every window is full
        fires, clears = COMPARISONS[self.comparison][1], COMPARISONS[self.resolve_comparison][1]
        fire = list(map(fires, values, repeat(self.level)))
        clear = list(map(clears, values, repeat(self.resolve_level)))

        def step(i: int) -> Step:
            at = first + i
            previous = measured[at - 1] if at >= size else None
            return self._step(series, at, values[i], previous, at - 1 if at else None,
                              fire[i], clear[i])  # fmt: skip

        return Judged(metric, series.periods[first:], values, fire, clear,
                      [False] * len(values), step)  # fmt: skip

    def _judge_days(self, metric: str, series: Values, start: int) -> Judged:
        """Every calendar day from the start's on: a day whose window misses a day is
        judged `missing` (nothing to judge: see `no_data`)."""
        periods = series.periods
        if start >= len(periods):
            return Judged.of(metric, [])
        first = date.fromisoformat(periods[start]) if start > 0 else None
        stored = {period: i for i, period in enumerate(periods)}
        days = list(
            calendar_rolling(zip(periods, series.values, strict=True), self.window.days,
                             self.aggregate, first=first)
        )  # fmt: skip
        # per day, the index of its stored value, or None when there is nothing to judge
        at = [stored.get(period) if value is not None else None for period, value, _ in days]
        values = [None if i is None else day[1] for day, i in zip(days, at, strict=True)]
        missing = [i is None for i in at]
        fires, clears = COMPARISONS[self.comparison][1], COMPARISONS[self.resolve_comparison][1]
        fire = [value is not None and fires(value, self.level) for value in values]
        clear = [value is not None and clears(value, self.resolve_level) for value in values]

        def step(i: int) -> Step:
            period, value, gaps = days[i]
            index = at[i]
            if value is None or index is None:
                shown = ", ".join(gaps[:3]) + (" ..." if len(gaps) > 3 else "")
                return Step(
                    series=metric, period=period, fire=False, clear=False, value=None,
                    says=f"the {self.measure()} to {period} is incomplete (missing {shown})",
                    facts=self.facts, missing=True,
                )  # fmt: skip
            before = at[i - 1] if i > 0 else None
            previous = values[i - 1] if before is not None else None
            return self._step(series, index, value, previous, before, fire[i], clear[i])

        return Judged(metric, [period for period, _, _ in days], values, fire, clear, missing,
                      step)  # fmt: skip

    def _step(
        self, series: Values, at: int, value: float, previous: float | None, before: int | None,
        fire: bool, clear: bool,
    ) -> Step:  # fmt: skip
        """The Step of the period at index `at`, compared on `value` (as judged: `fire`,
        `clear`)."""
        told = _Told(self, series, at, value, previous, before, fire, clear)
        return Step(series.metric, series.periods[at], fire, clear, value, told.says, told.facts,
                    series.snapshot_ids[at])  # fmt: skip


@dataclass(slots=True)
class _Told:
    """A judged period's words and facts, formatted only if told: most periods of twenty
    years change nothing (one small object, not a closure per word)."""

    rule: Threshold
    series: Values
    at: int
    value: float
    previous: float | None
    before: int | None
    fire: bool
    clear: bool

    def words(self) -> str:  # '7-day mean' on a daily series, '7-month mean' on a monthly one
        grain = _grain(self.series.periods[self.at])
        said = self.rule._measured
        if grain not in said:
            said[grain] = self.rule._drawn.measured(grain)
        return said[grain]

    def says(self) -> str:
        rule, value = self.rule, self.value
        level, resolve = rule._levels_said
        fire_words = COMPARISONS[rule.comparison][0]
        clear_words = COMPARISONS[rule.resolve_comparison][0]
        measured = f"{self.words()} {number(value)} is"
        if self.fire:
            return f"{measured} {fire_words} {level}"
        if self.clear:
            return f"{measured} {clear_words} {resolve}"
        if rule.resolve_level == rule.level:
            return f"{measured} not {fire_words} {level}"
        return f"{measured} not {clear_words} {resolve}"

    def facts(self) -> dict:
        series, at, before = self.series, self.at, self.before
        return {
            **self.rule.facts,
            "measure": self.words(),
            "previous_value": self.previous,
            "previous_period": series.periods[before] if before is not None else None,
            "previous_label": f"previous {self.words()}",  # the measure a period before
            "latest_value": series.values[at],
            "flags": list(decode_flags(series.flags[at])),
        }


@lru_cache(maxsize=8192)  # every day of twenty years: transitions fall on the same days
def _grain(period: str) -> str:
    return Period(period).grain
