"""What a grid of cells (an HTML table, a sheet's table, a PDF table) looks like to a
reader: its header rows, where its periods are, its row labels and footnote marks. The
table, workbook and pdf surveys share it; the keys it proposes are the `Tabular` ones."""

import re
from dataclasses import dataclass, field
from typing import Any

from core.periods import Period, PeriodError
from scrapers.extract.grid import Cell, Grid, header_count, label
from scrapers.extract.text import slug
from scrapers.kinds.table import TableSource
from scrapers.numbers import WITH_SHARE, NumberError, parse_number

SHOWN = 6  # labels or periods named in a line
SAMPLED = 300  # body rows looked at to judge cells
DAY = re.compile(r"\d{4}-\d\d-\d\d|\d{1,2}/\d{1,2}/\d{4}")


@dataclass
class Shape:
    """How a grid reads: the keys that say it, and the lines that show it."""

    keys: dict[str, Any] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)
    periods: str = ""  # "columns", "rows", or "" (none found)
    numbers: int = 0  # cells holding a number
    daily: bool = False


def is_period(text: str) -> bool:
    if not text or len(text) > 40:
        return False
    try:
        Period.parse(text)
    except (PeriodError, ValueError):
        return False
    return True


def is_number(text: str) -> bool:
    try:
        return parse_number(text).value is not None
    except NumberError:
        return False


def shape(grid: Grid, prefix: str) -> Shape:
    """Read the grid's shape: header rows (<th> or not), periods in columns (their
    header) or in rows (a column of periods), row labels, marks; the keys follow."""
    rows = grid.rows
    found = Shape()
    probe = TableSource(name="inspect", url="https://inspect.invalid/", metric="x")
    count = header_count(probe, grid)
    if not count and len(rows) > 1:
        count = 1
        found.keys["header_rows"] = 1
    if len(rows) <= count:
        return found
    header, body = rows[count - 1], rows[count:]
    sample = body[:SAMPLED]  # what a cell holds is judged on the first rows (sheets are long)
    found.numbers = sum(is_number(cell.text) for row in sample for cell in row[1:])
    marked = "with <th>" if all(c.header for c in rows[0]) or grid.thead else "without <th>"
    found.details.append(
        f"header ({count} row{'s' if count > 1 else ''}, {marked}): "
        + " | ".join(cell.text for cell in header[:8] if cell.text)
        + (" ..." if len(header) > 8 else "")
    )
    columns = [c for c, cell in enumerate(header) if is_period(cell.text)]
    if columns and min(columns) > 0:
        found.periods = "columns"
        names = [header[c].text for c in columns]
        found.details.append(f"periods in columns: {_listed(names)}")
        labels = [_label(row, min(columns)) for row in body]
        found.details.append(f"row labels: {_listed([text for text in labels if text])}")
        grouped = any(all(not row[c].text for c in columns) for row in body)
        if not grouped and (rows_kept := _unique_rows([text for text in labels if text])):
            found.keys["rows"] = rows_kept
            found.details.append(f"row labels repeat: only rows matching {rows_kept!r}")
        above = {
            " ".join(cell.text for cell in (row[c] for row in rows[: count - 1])) for c in columns
        }
        template = f"{prefix}.{{column}}.{{row}}" if len(above) > 1 else f"{prefix}.{{row}}"
        found.keys["metric"] = template
    else:
        column = _period_column(sample)
        if column is None:
            return found
        found.periods = "rows"
        names = [cell.text for cell in header]
        periods = [row[column].text for row in body if row[column].text]
        found.daily = (
            sum(bool(DAY.fullmatch(text)) for text in periods[:SAMPLED])
            > min(len(periods), SAMPLED) / 2
        )
        found.details.append(
            f"periods in rows{' (daily)' if found.daily else ''}, column "
            f"{names[column]!r}: {_listed(periods)}"
        )
        found.keys["periods"] = "rows"
        if names[column]:
            found.keys["period_column"] = names[column]
        if "fiscal" in names[column].lower() or names[column].upper().startswith("FY"):
            found.keys["fiscal"] = True
        months = [c for c, name in enumerate(names) if c != column and "month" in name.lower()]
        if months:
            found.keys["month_column"] = names[months[0]]
        timed = {column, *months[:1]}
        kept = [c for c in range(len(names)) if c not in timed and not _numeric_column(sample, c)]
        parts = [f"{{{slug(names[c])}}}" for c in kept if slug(names[c])]  # {region}
        found.keys["metric"] = ".".join([prefix, *parts, "{column}"])
    marks = sorted({m for row in [*rows[:count], *sample] for cell in row for m in _marks(cell)})
    if marks:
        found.details.append(f"footnote marks (kept as flags): {', '.join(marks)}")
    if any(WITH_SHARE.match(cell.text) for row in sample for cell in row):
        found.keys["percent_metric"] = found.keys["metric"] + ".share"
        found.details.append("cells like '42 (4.66%)': the count, and its share as percent_metric")
    return found


def _unique_rows(labels: list[str]) -> str:
    """When labels repeat ('At Large' under each border), a `rows` regex for the ones
    that do not: the words they end with ('Total Apprehensions'), else their names."""
    counts = {label: labels.count(label) for label in labels}
    single = [label for label, count in counts.items() if count == 1]
    repeated = [label for label, count in counts.items() if count > 1]
    if not repeated or not single:
        return ""
    words = [label.split() for label in single]
    shared: list[str] = []
    while all(len(w) > len(shared) for w in words):
        before = {w[-len(shared) - 1] for w in words}  # the word before the shared ending
        if len(before) > 1:
            break
        shared.insert(0, before.pop())
    ending = re.escape(" ".join(shared))
    if shared and not any(re.search(ending, label) for label in repeated):
        return " ".join(shared)
    return "^(?:" + "|".join(re.escape(label) for label in single) + ")$"


def _period_column(body: list[list[Cell]]) -> int | None:
    for column in range(len(body[0]) if body else 0):
        texts = [row[column].text for row in body if row[column].text]
        if texts and sum(is_period(text) for text in texts) > len(texts) / 2:
            return column
        if texts and any(is_number(text) for text in texts):
            return None  # periods come before the values
    return None


def _numeric_column(body: list[list[Cell]], column: int) -> bool:
    return any(is_number(row[column].text) for row in body)


def _label(row: list[Cell], before: int) -> str:
    return " / ".join(dict.fromkeys(cell.text for cell in row[:before] if cell.text))


def _marks(cell: Cell) -> list[str]:
    """Its footnote marks, as the grid reader takes them out of labels."""
    return [mark.removeprefix("footnote:") for mark in label(cell)[1]]


def _listed(texts: list[str]) -> str:
    unique = list(dict.fromkeys(texts))
    if len(unique) <= SHOWN:
        return ", ".join(unique) + f" ({len(unique)})"
    return f"{', '.join(unique[:3])} ... {', '.join(unique[-2:])} ({len(unique)})"
