"""Period cells as tables and files print them: a year with a month column beside it, or
one date per row. Shared by the csv and the table readers, so a cell that is not what its
column promises reads the same in both: which cell, and what it should have been."""

import re

from core.periods import Period, PeriodError, fiscal_month, month_number

DATE_FORMATS = ("MM/DD/YYYY", "DD/MM/YYYY")
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_LEADING_NUMBER = re.compile(r"^\d{1,2}\s+")  # OHSS numbers its months: "01 October"
_TIME = re.compile(r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def year(cell: str) -> Period:
    """A year cell ('2024', 'FY 2024', '2025 (FYTD)'); PeriodError saying what it is."""
    period = Period.parse(cell)
    if period.grain not in ("year", "fiscal year"):
        raise PeriodError(f"{cell!r} is a {period.grain}, not a year")
    return period


def year_month(year_cell: str, month_cell: str, *, fiscal: bool) -> Period:
    """A month from a year cell and a month cell: '2025' + 'Jan' -> 2025-01; a fiscal
    year (or `fiscal`) counts October to December in the year before."""
    whole = year(year_cell).text
    number = int(whole.removeprefix("FY"))
    name = _LEADING_NUMBER.sub("", month_cell.strip())
    try:
        month = month_number(name)
    except PeriodError:
        raise PeriodError(f"{month_cell!r} is not a month name (Jan, January, SEPT)") from None
    if fiscal or whole.startswith("FY"):
        return Period(fiscal_month(number, month))
    return Period(f"{number}-{month:02d}")


def day(cell: str, date_format: str = "") -> Period:
    """A date cell: ISO '2025-01-05' (a time after it is ignored), 'Jan 5, 2025', '5 January
    2025', or with `date_format` declared, '01/05/2025' (MM/DD/YYYY, US) or DD/MM/YYYY.
    PeriodError in words: an undeclared slashed date is ambiguous."""
    text = _TIME.sub("", cell.strip())
    if match := _SLASHED.fullmatch(text):
        if date_format not in DATE_FORMATS:
            raise PeriodError(
                f"{cell!r} could be month/day or day/month: declare date_format = "
                f'"MM/DD/YYYY" (US) or "DD/MM/YYYY"'
            )
        first, second, number = match.groups()
        month, day_of = (first, second) if date_format == "MM/DD/YYYY" else (second, first)
        text = f"{number}-{int(month):02d}-{int(day_of):02d}"
    try:
        period = Period.parse(text)
    except PeriodError:
        raise PeriodError(f"{cell!r} is not a date (like 2025-01-05 or Jan 5, 2025)") from None
    if not period.is_day:
        raise PeriodError(f"{cell!r} is a {period.grain}, not a date")
    return period
