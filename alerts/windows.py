"""Windows over calendar days: a "7d" window covers exactly seven days and is
incomplete when one has no figure — it never stretches over a gap. Used by threshold
rules (`window = "7d"`) and derived metrics (`rolling("m", "7d", mean)`)."""

from collections import deque
from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from alerts.drawing import AGGREGATES
from alerts.periods import is_day


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
        if not is_day(period):
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
