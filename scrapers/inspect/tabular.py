"""A CSV file: its columns - a year and a month, or a date, a value to sum, and the
few-valued columns it could be grouped by - proposed as `csv` sources: the total, and one
per grouping."""

import csv
import io
import itertools

from core.periods import PeriodError, month_number
from scrapers.extract import Page, dates
from scrapers.extract.text import slug
from scrapers.inspect.grids import is_number, is_period
from scrapers.inspect.survey import Candidate, Found

ROWS_READ = 20_000  # rows looked at to tell columns apart (a crawl reads them all)
GROUPS = 12  # at most this many distinct values: a column to group by


def candidates(page: Page, prefix: str) -> Found:
    with page.open() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="", errors="replace")
        reader = csv.reader(line for line in text if not line.startswith("#"))
        header = [name.strip() for name in next(reader, [])]
        rows = [row for row in itertools.islice(reader, ROWS_READ) if len(row) == len(header)]
    found = Found()
    if not rows:
        found.seen.append(f"a CSV header {header[:8]} and no rows")
        return found
    columns = {name: [row[i] for row in rows] for i, name in enumerate(header)}
    year = next((n for n in header if "year" in n.lower() and _all(columns[n], _is_year)), "")
    month = next((n for n in header if "month" in n.lower() and _all(columns[n], _is_month)), "")
    dated = next((n for n in header if _all(columns[n], is_period) and n not in (year, month)), "")
    numeric = [n for n in header if n not in (year, month) and _all(columns[n], is_number)]
    if not numeric:
        found.seen.append(f"a CSV with no column of numbers (header {header[:8]})")
        return found
    value = next((n for n in numeric if "count" in n.lower() or "total" in n.lower()), numeric[-1])
    daily = "" if year else next((n for n in header if _all(columns[n], _is_day)), "")
    if not year and not daily:
        said = f"periods in column {dated!r}" if dated else "no year or date column"
        found.seen.append(
            f"a CSV with {said}: the csv kind reads a year column (and a month column) "
            "or a column of dates"
        )
        return found
    keys: dict[str, str | bool] = {"value": value}
    if daily:
        keys["date"] = daily
    else:
        keys["year"] = year
    if month:
        keys["month"] = month
    if year and "fiscal" not in year.lower():
        keys["fiscal"] = False
    details = [
        f"columns: {', '.join(header)}",
        (f"one date a row: {daily!r} (a daily series)" if daily else f"periods: {year!r}")
        + (f" and {month!r}" if month else "")
        + f"; values: {value!r}",
        f"{len(rows):,} rows read{' (the first)' if len(rows) == ROWS_READ else ''}",
    ]
    found.candidates.append(Candidate(f"CSV: {value!r} summed per period", "csv",
                                      {"metric": prefix, **keys}, details))  # fmt: skip
    for name in header:
        distinct = set(columns[name])
        grouping = 1 < len(distinct) <= GROUPS and name not in numeric
        if name in (year, month, daily, value) or not grouping:
            continue
        shown = ", ".join(sorted(distinct)[:6])
        found.candidates.append(
            Candidate(
                f"CSV: {value!r} summed per period and {name!r} ({len(distinct)} values)",
                "csv",
                {"metric": f"{prefix}.{{{slug(name)}}}", **keys},
                [*details[:2], f"{name}: {shown}"],
            )
        )
    return found


def _all(values: list[str], test) -> bool:
    sample = [value for value in values[:500] if value.strip()]
    return bool(sample) and all(test(value) for value in sample)


def _is_year(text: str) -> bool:
    head = text.strip()[:4]
    return head.isdigit() and 1900 < int(head) < 2200 and is_period(text)


def _is_day(text: str) -> bool:
    """A date as the csv kind reads one unasked (ISO, 'Jan 5, 2025'; not a slashed one)."""
    try:
        dates.day(text)
    except PeriodError:
        return False
    return True


def _is_month(text: str) -> bool:
    try:
        month_number(text.strip())
    except (PeriodError, ValueError):
        return False
    return True
