"""The `csv` extractor: a CSV file read as a stream (memory does not grow with the file),
filtered, and summed per metric and period."""

import csv
import io
import operator
from collections import defaultdict
from collections.abc import Iterator

from core.periods import PeriodError
from scrapers.extract import Extraction, LayoutError, Page, dates
from scrapers.extract.text import shown, slug
from scrapers.kinds.csvfile import CsvSource
from scrapers.numbers import NumberError, parse_number
from storage import Observation


def extract(source: CsvSource, page: Page) -> Extraction:
    with page.open() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        try:
            return _sum(source, page, csv.reader(_without_comments(text)))
        except UnicodeDecodeError as error:
            raise LayoutError(
                f"{source.name}: expected a CSV file in UTF-8 at {page.url}, but it holds "
                f"bytes that are not ({error.reason}: {error.object[error.start : error.end]!r})"
            ) from None
        except csv.Error as error:
            raise LayoutError(
                f"{source.name}: expected a CSV file at {page.url}, but it cannot be read as "
                f"one ({error})"
            ) from None


def _without_comments(lines: Iterator[str]) -> Iterator[str]:
    """Leading '#' lines (notes added to copies of the files) are not data."""
    for line in lines:
        if not line.startswith("#"):
            yield line
            break
    yield from lines


def _sum(source: CsvSource, page: Page, reader: Iterator[list[str]]) -> Extraction:
    header = [name.strip() for name in next(reader, [])]
    index = {name: position for position, name in enumerate(header)}
    by_slug = {slug(name): position for position, name in enumerate(header)}
    when_columns = [name for name in (source.date, source.year, source.month) if name]
    needed = [source.value, *when_columns, *source.filters]
    missing = [name for name in needed if name not in index]
    missing += [name for name in source.group_columns if name not in by_slug]
    if missing:
        raise LayoutError(
            f"{source.name}: expected columns {shown(missing)} in {page.url}, but the header "
            f"is {shown(header, 20)}"
        )
    # One C-level call per row for the filter and for the group (bench/README.md).
    picked = _getter([index[name] for name in source.filters])
    wanted = tuple(source.filters.values())
    value_at = index[source.value]
    when_of = _getter([index[name] for name in when_columns])
    grouped = _getter([by_slug[name] for name in source.group_columns])
    periods: dict[tuple[str, ...], tuple[str, tuple[str, ...]]] = {}
    totals: dict[tuple[tuple[str, ...], tuple[str, ...]], float] = defaultdict(float)
    rows = matched = 0
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        rows += 1
        if len(row) != len(header):
            raise LayoutError(
                f"{source.name}: line {line} of {page.url} has {len(row)} fields, the header "
                f"has {len(header)}"
            )
        if picked(row) != wanted:
            continue
        matched += 1
        when = when_of(row)
        if when not in periods:
            periods[when] = _period(source, when, where=f"line {line} of {page.url}")
        totals[(grouped(row), when)] += _count(source, row[value_at], line, page.url)
    if not matched:
        raise LayoutError(
            f"{source.name}: no rows of {page.url} match the filters {dict(source.filters)} "
            f"({rows} rows read)"
        )
    extraction = Extraction()
    names = source.group_columns
    for (group, when), total in totals.items():
        period, flags = periods[when]
        metric = source.metric.format_map(
            {name: slug(value) for name, value in zip(names, group, strict=True)}
        )
        label = (
            source.label.format_map(dict(zip(names, group, strict=True))) if source.label else ""
        )
        extraction.add(Observation(metric, period, total, source.unit, flags), label, source.name)
    return extraction


def _getter(positions: list[int]):
    """A function from a row to the tuple of its values at `positions` (() for none)."""
    if not positions:
        return lambda row: ()
    if len(positions) == 1:
        position = positions[0]
        return lambda row: (row[position],)
    return operator.itemgetter(*positions)


def _period(
    source: CsvSource, cells: tuple[str, ...], *, where: str
) -> tuple[str, tuple[str, ...]]:
    """The period of a row from its date cell, or its year (and month) cells; LayoutError
    naming the column and the cell."""
    columns = [name for name in (source.date, source.year, source.month) if name]
    try:
        if source.date:
            return dates.day(cells[0], source.date_format).text, ()
        if not source.month:
            parsed = dates.year(cells[0])  # "2024", "2025 (FYTD)" (partial) or "FY2024"
            number = parsed.text.removeprefix("FY")
            return (f"FY{number}" if source.fiscal else number), parsed.flags
        return dates.year_month(cells[0], cells[1], fiscal=source.fiscal).text, ()
    except PeriodError as error:
        named = " / ".join(f"{column!r}" for column in columns)
        raise LayoutError(f"{source.name}: {where}, column {named}: {error}") from None


def _count(source: CsvSource, text: str, line: int, url: str) -> float:
    try:
        return float(int(text))
    except ValueError:
        pass
    try:
        number = parse_number(text)
    except NumberError as error:
        raise LayoutError(
            f"{source.name}: line {line} of {url}, column {source.value!r}: {error}"
        ) from None
    return number.value or 0.0
