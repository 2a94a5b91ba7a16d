"""Periods in one canonical text form, so that series from different sources line up
and sort as text: a day `2024-06-03`, a month `2024-06`, a calendar quarter `2011-Q3`,
a calendar year `2024`, a US federal fiscal year `FY2024` (1 Oct 2023 - 30 Sep 2024).

`parse_period` reads the labels the sources print ("FY 2022*", "2025 (FYTD)", "Oct-24",
"Sept-25", "June 2024", "05/31/2025", "May 31, 2025", "(27 Jun 2025)"); a label it cannot
read raises `PeriodError`."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"([A-Za-z]{3,9})\.?"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("fiscal", r"^FY\s*'?(\d{4}|\d{2})$"),
        ("fytd", r"^(\d{4})\s*\((?:FYTD|YTD)\)$"),
        ("iso_day", r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
        ("iso_month", r"^(\d{4})-(\d{1,2})$"),
        ("us_day", r"^(\d{1,2})/(\d{1,2})/(\d{4})$"),
        ("month_day_year", rf"^{_MONTH}\s+(\d{{1,2}}),?\s+(\d{{4}})$"),
        ("day_month_year", rf"^(\d{{1,2}})\s+{_MONTH},?\s+(\d{{4}})$"),
        ("month_dash_yy", rf"^{_MONTH}[-\s]'?(\d{{2}})$"),
        ("month_year", rf"^{_MONTH},?\s+(\d{{4}})$"),
        ("quarter_months", rf"^{_MONTH}\s*[-\u2013]\s*{_MONTH}\s+(\d{{4}})$"),
        ("quarter", r"^Q([1-4])\s*(\d{4})$"),
        ("year", r"^(\d{4})$"),
    )
)
# Marks printed after a label: "FY 2022*" means a partial year, explained in a footnote.
_FOOTNOTE = re.compile(r"(\*+|†+|\[\w{1,3}\])$")


class PeriodError(ValueError):
    """A label that should name a period but does not; the message quotes it."""


@dataclass(frozen=True)
class Period:
    text: str
    flags: tuple[str, ...] = ()


def parse_period(raw: str) -> Period:
    """The canonical period of a label, with flags (`partial`, `footnote:*`)."""
    text = " ".join(str(raw).split())
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    flags: list[str] = []
    while (mark := _FOOTNOTE.search(text)) and mark.start() > 0:
        flags.insert(0, f"footnote:{mark.group(1)}")
        text = text[: mark.start()].rstrip()
    if flags:
        flags.insert(0, "partial")
    for name, pattern in _PATTERNS:
        if match := pattern.match(text):
            canonical, extra = _canonical(name, match.groups(), raw)
            return Period(canonical, tuple(dict.fromkeys([*extra, *flags])))
    raise PeriodError(f"{raw!r} is not a period (day, month, quarter, year or fiscal year)")


def _canonical(name: str, groups: tuple[str, ...], raw: str) -> tuple[str, list[str]]:
    if name == "fiscal":
        year = int(groups[0])
        return f"FY{year + 2000 if year < 100 else year}", []
    if name == "fytd":
        return f"FY{groups[0]}", ["partial"]
    if name == "iso_day":
        return _day(int(groups[0]), int(groups[1]), int(groups[2]), raw), []
    if name == "iso_month":
        return _month(int(groups[0]), int(groups[1]), raw), []
    if name == "us_day":
        return _day(int(groups[2]), int(groups[0]), int(groups[1]), raw), []
    if name == "month_day_year":
        return _day(int(groups[2]), month_number(groups[0], raw), int(groups[1]), raw), []
    if name == "day_month_year":
        return _day(int(groups[2]), month_number(groups[1], raw), int(groups[0]), raw), []
    if name == "month_dash_yy":
        return _month(2000 + int(groups[1]), month_number(groups[0], raw), raw), []
    if name == "month_year":
        return _month(int(groups[1]), month_number(groups[0], raw), raw), []
    if name == "quarter_months":
        first, last = month_number(groups[0], raw), month_number(groups[1], raw)
        if last - first != 2 or first % 3 != 1:
            raise PeriodError(f"{raw!r} is not a calendar quarter")
        return f"{groups[2]}-Q{(first + 2) // 3}", []
    if name == "quarter":
        return f"{groups[1]}-Q{groups[0]}", []
    return groups[0], []  # year


def month_number(name: str, raw: object = None) -> int:
    """'Jun', 'June', 'SEPT', 'sep.' -> 6, 6, 9, 9."""
    number = MONTHS.get(name.lower().rstrip("."))
    if number is None:
        raise PeriodError(f"{raw if raw is not None else name!r}: {name!r} is not a month name")
    return number


def fiscal_month(fiscal_year: int, month: str | int) -> str:
    """The calendar month of a fiscal-year month: FY2024 + 'OCT' -> '2023-10'."""
    number = month if isinstance(month, int) else month_number(month)
    year = fiscal_year - 1 if number >= 10 else fiscal_year
    return f"{year}-{number:02d}"


def fiscal_year_of(period: str) -> str:
    """The fiscal year a day or month falls in: '2023-10' -> 'FY2024'."""
    year, month = int(period[:4]), int(period[5:7])
    return f"FY{year + 1 if month >= 10 else year}"


def _day(year: int, month: int, day: int, raw: object) -> str:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise PeriodError(f"{raw!r} is not a real date") from None


def _month(year: int, month: int, raw: object) -> str:
    if not 1 <= month <= 12:
        raise PeriodError(f"{raw!r} has no month {month}")
    return f"{year:04d}-{month:02d}"


def parse_timestamp(raw: str) -> datetime:
    """A day label as a UTC midnight (for news dates printed without a time)."""
    period = parse_period(raw).text
    if len(period) != 10:
        raise PeriodError(f"{raw!r} is not a day")
    return datetime.fromisoformat(period).replace(tzinfo=UTC)
