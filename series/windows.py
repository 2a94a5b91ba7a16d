"""How long, in a rule (`Span`: periods or calendar days), and windows over calendar
days: a "7d" window covers exactly seven days and is incomplete when one has no figure —
it never stretches over a gap. Used by threshold rules (`window = "7d"`, `for`,
`resolve_for`, `lift_after`) and derived metrics (`rolling("m", "7d", mean)`)."""

import math
import operator
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate, repeat

from core.periods import Period
from series.drawing import AGGREGATES

DAYS = re.compile(r"^\s*(\d+)\s*([dw])\s*$")
# Ten years, in days or in periods (of daily figures, the densest there are): any longer
# is a typo, and a longer window overflows a date.
LONGEST = 3660


@dataclass(frozen=True)
class Span:
    """How long, in a rule: `periods` stored periods in a row (TOML: a number, 28), or
    `days` calendar days (TOML: '28d' or '4w'), which never stretch over a gap."""

    periods: int = 0
    days: int = 0

    @classmethod
    def from_toml(cls, raw: object) -> "Span":
        if isinstance(raw, int) and not isinstance(raw, bool):
            if not 0 <= raw <= LONGEST:
                raise ValueError(
                    f"{raw} periods is out of range: use 0 to {LONGEST:,} (ten years of days)"
                )
            return cls(periods=raw)
        if isinstance(raw, str) and (match := DAYS.match(raw)):
            if len(match[1]) > 6 or int(match[1]) * (7 if match[2] == "w" else 1) > LONGEST:
                raise ValueError(f"{raw!r} is longer than ten years ({LONGEST:,} days)")
            return cls(days=int(match[1]) * (7 if match[2] == "w" else 1))
        raise ValueError(
            f"{raw!r} is neither a number of periods (7) nor calendar days ('7d', '4w')"
        )

    @property
    def calendar(self) -> bool:
        return self.days > 0

    @property
    def length(self) -> int:
        return self.days or self.periods

    def __str__(self) -> str:
        if self.days:
            return f"{self.days} days"
        return f"{self.periods} period{'s' * (self.periods != 1)}"


def rolling(values: list[float], size: int, aggregate: str) -> list[float | None]:
    """The `aggregate` over the `size` values ending at each position (None before the
    first full window) — equal, bit for bit, to `AGGREGATES[aggregate]` over each slice,
    in one pass over twenty years instead of a slice and a sum per period. A sum or mean
    of whole numbers runs as an exact integer sum: fsum's correctly rounded result is then
    that sum rounded once (fmean divides it by the count)."""
    head: list[float | None] = [None] * min(size - 1, len(values))
    if aggregate in ("sum", "mean") and _whole(values):
        # the sum ending at i is prefix[i + 1] - prefix[i + 1 - size], every step in C
        prefix = list(accumulate(map(int, values), initial=0))
        found = list(map(float, map(operator.sub, prefix[size:], prefix[: len(prefix) - size])))
        if aggregate == "mean":
            found = list(map(operator.truediv, found, repeat(float(size))))
        return head + found
    if aggregate == "last" or (size == 1 and aggregate in ("min", "max")):
        return head + list(values[size - 1 :])
    combine = AGGREGATES[aggregate]
    return head + [combine(values[i - size + 1 : i + 1]) for i in range(size - 1, len(values))]


def _whole(values: list[float]) -> bool:
    """Every value a whole number, none of them -0.0 (whose sign fsum keeps)."""
    try:  # every value a float (as stored): tested in C
        whole = all(map(float.is_integer, values))
    except TypeError:  # not all floats: each asked alike
        whole = all(value.is_integer() for value in values)
    return whole and not (
        0 in values and any(value == 0 and math.copysign(1.0, value) < 0 for value in values)
    )


def consecutive_days(periods: Sequence[str]) -> bool:
    """Whether `periods` are days in canonical form ('2024-06-03'), each the day after the
    one before: then no calendar window has a gap, and a window of N days is the N periods
    ending there (`rolling`, its sums exact, instead of a date and a slice per day)."""
    if not periods:
        return True
    try:
        start = date.fromisoformat(periods[0]).toordinal()
    except ValueError:
        return False
    days = range(start, start + len(periods))
    return [date.fromordinal(day).isoformat() for day in days] == list(periods)


def calendar_rolling(
    points: Iterable[tuple[str, float]], days: int, aggregate: str, *, first: date | None = None
) -> Iterator[tuple[str, float | None, list[str]]]:
    """Over daily (period, value) pairs in order: for every calendar day from `first` (or
    the first full window) to the last day given, (day, aggregate over the `days` days
    ending there or None if one is missing, the missing days). Streams: it holds one
    window, however long the series."""
    combine = AGGREGATES[aggregate]
    window: deque[tuple[date, float]] = deque()
    cursor: date | None = None
    for period, value in points:
        if not Period(period).is_day:
            raise ValueError(
                f"a window in days ('{days}d') needs daily periods, found {period!r}: "
                f"write the window as a number of periods (window = {days})"
            )
        today = date.fromisoformat(period)
        if cursor is None:
            cursor = first or today + timedelta(days=days - 1)
        while cursor < today:  # days with no value: judged incomplete
            yield cursor.isoformat(), None, _missing(window, cursor, days)
            cursor += timedelta(days=1)
        window.append((today, value))
        while window and window[0][0] <= today - timedelta(days=days):
            window.popleft()
        if today < cursor:
            continue
        cursor = today + timedelta(days=1)
        if len(window) == days:
            yield period, combine([v for _, v in window]), []
        else:
            yield period, None, _missing(window, today, days)


def _missing(window: deque[tuple[date, float]], day: date, days: int) -> list[str]:
    present = {d for d, _ in window}
    wanted = (day - timedelta(days=offset) for offset in range(days - 1, -1, -1))
    return [d.isoformat() for d in wanted if d not in present]
