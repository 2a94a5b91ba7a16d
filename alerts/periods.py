"""Period text as storage keeps it ('2024-06-03', '2024-06', '2024-Q2', 'FY2024', '2024')
and the calendar days each covers, and `Span`: an amount of time written in a rule either
as a number of periods (7) or in calendar days ('7d', '4w')."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
FISCAL_YEAR = re.compile(r"^FY(\d{4})$")
CALENDAR_YEAR = re.compile(r"^(\d{4})$")
DAYS = re.compile(r"^\s*(\d+)\s*([dw])\s*$")


def year_earlier(period: str) -> str | None:
    """'2024-06-03' -> '2023-06-03'; 'FY2024' -> 'FY2023'; None if no year to shift.
    29 February has no year-earlier twin and gives None."""
    match = YEAR.search(period)
    if match is None:
        return None
    shifted = f"{period[: match.start()]}{int(match[1]) - 1:04d}{period[match.end() :]}"
    return None if shifted.endswith("-02-29") else shifted


def span(period: str) -> tuple[date, date] | None:
    """The calendar days a period covers, as [first day, day after the last); None for
    text that is not a day, month, quarter, US fiscal year (October to September) or year."""
    try:
        if match := DAY.match(period):
            first = date(int(match[1]), int(match[2]), int(match[3]))
            return first, first + timedelta(days=1)
        if match := MONTH.match(period):
            year, month = int(match[1]), int(match[2])
            return date(year, month, 1), _month_after(year, month)
        if match := QUARTER.match(period):
            year, quarter = int(match[1]), int(match[2])
            return date(year, 3 * quarter - 2, 1), _month_after(year, 3 * quarter)
        if match := FISCAL_YEAR.match(period):
            year = int(match[1])
            return date(year - 1, 10, 1), date(year, 10, 1)
        if match := CALENDAR_YEAR.match(period):
            year = int(match[1])
            return date(year, 1, 1), date(year + 1, 1, 1)
    except ValueError:  # 2024-13, 2023-02-30
        return None
    return None


def is_day(period: str) -> bool:
    return DAY.match(period) is not None


def _month_after(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1)


@dataclass(frozen=True)
class Span:
    """How long, in a rule: `periods` stored periods in a row (TOML: a number, 28), or
    `days` calendar days (TOML: '28d' or '4w'), which never stretch over a gap."""

    periods: int = 0
    days: int = 0

    @classmethod
    def from_toml(cls, raw: object) -> "Span":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return cls(periods=raw)
        if isinstance(raw, str) and (match := DAYS.match(raw)):
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
