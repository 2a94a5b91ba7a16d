"""Period text as storage keeps it ('2024-06-03', '2024-06', '2024-Q2', 'FY2024', '2024'):
its grain (day, month, ...), a short label for chart ticks, and the same period a year
earlier (the same text with the year one less)."""

import re
from datetime import date

YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
GRAINS = (
    ("day", re.compile(r"\d{4}-\d{2}-\d{2}")),
    ("month", re.compile(r"\d{4}-\d{2}")),
    ("quarter", re.compile(r"\d{4}-Q[1-4]")),
    ("fiscal year", re.compile(r"FY ?\d{4}")),
    ("year", re.compile(r"\d{4}")),
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def year_earlier(period: str) -> str | None:
    """'2024-06-03' -> '2023-06-03'; 'FY2024' -> 'FY2023'; None if no year to shift.
    29 February has no year-earlier twin and gives None."""
    match = YEAR.search(period)
    if match is None:
        return None
    shifted = f"{period[: match.start()]}{int(match[1]) - 1:04d}{period[match.end() :]}"
    return None if shifted.endswith("-02-29") else shifted


def grain(period: str) -> str:
    """'day', 'month', 'quarter', 'fiscal year', 'year', or 'period' for other forms."""
    return next((name for name, form in GRAINS if form.fullmatch(period)), "period")


def grain_of(periods: list[str]) -> str:
    """The grain shared by every period of a series ('period' when they are mixed)."""
    grains = {grain(period) for period in periods}
    return grains.pop() if len(grains) == 1 else "period"


def tick(period: str, *, with_year: bool) -> str:
    """A short label for a chart's axis: 'Jun 3' (or 'Jun 3, 2024'), 'Jun 2024', 'FY2024'.
    Distinct periods of one grain give distinct labels."""
    kind = grain(period)
    if kind == "day":
        day = date.fromisoformat(period)
        short = f"{MONTHS[day.month - 1]} {day.day}"
        return f"{short}, {day.year}" if with_year else short
    if kind == "month":
        return f"{MONTHS[int(period[5:7]) - 1]} {period[:4]}"
    return period.replace("FY ", "FY")


def position(period: str) -> int | None:
    """Where a period sits on a time axis, in units of its grain: days since 1970-01-01,
    months or quarters since year 0, or the year; None for other forms."""
    kind = grain(period)
    if kind == "day":
        return (date.fromisoformat(period) - date(1970, 1, 1)).days
    if kind == "month":
        return int(period[:4]) * 12 + int(period[5:7]) - 1
    if kind == "quarter":
        return int(period[:4]) * 4 + int(period[-1]) - 1
    if kind in ("fiscal year", "year"):
        return int(period[-4:])
    return None
