"""Output options shared by every listing command, in the style of sqlite-utils:
--table (default, for reading), --csv, --json and --nl (for other programs).

Tables show numbers with thousands separators and times in the configured timezone;
the machine formats give stored values as they are (times in UTC, ISO 8601)."""

import csv
import dataclasses
import json
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Callable, Iterable
from datetime import tzinfo
from typing import IO, Any

import click

from core.formatting import moment, number
from core.text import printable

FORMATS = ("table", "wide", "csv", "json", "nl")
GAP = 2  # spaces between table columns (tabulate's plain format)
LONGEST = 40  # characters of a long text column shown in a table that fits the terminal
INDENT = 2  # a stacked table's rows, under the line with their key
# The id of a stored row (snapshot, message, silence): SQLite ids are 64-bit, and a larger
# number would not even bind as a query parameter, so it is refused as a usage error.
ROW_ID = click.IntRange(1, 2**63 - 1)
STORED_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def output_options(command: Callable) -> Callable:
    """Add --table/--csv/--json/--nl (one `fmt` argument) to a command."""
    helps = {
        "table": "Aligned table for reading, long columns cut to fit the terminal (default).",
        "wide": "The aligned table with every column in full.",
        "csv": "Comma-separated values with a header row.",
        "json": "A JSON array of objects.",
        "nl": "Newline-delimited JSON: one object per line.",
    }
    for name in reversed(FORMATS):
        command = click.option(f"--{name}", "fmt", flag_value=name, help=helps[name])(command)
    return command


def emit(
    rows: Iterable[Any],
    fmt: str | None,
    *,
    columns: list[str],
    zone: tzinfo,
    out: IO | None = None,
    key: str | None = None,
) -> None:
    """Write rows (to stdout, or `out`) in the chosen format; streamed except tables.
    `key` names the column a user types next (a metric id): a table too wide for the
    terminal shows it in full on a line of its own rather than cut (see `_stacked`).
    Rows are dicts, or storage's records (frozen dataclasses), read by their field names."""
    fmt = fmt or "table"  # no format option given
    rows = (_as_dict(row) for row in rows)
    if fmt in ("table", "wide"):
        body = [[_readable(row.get(column), zone) for column in columns] for row in rows]
        width = _terminal_width(out) if fmt == "table" else None
        kept = len(columns)
        if width is not None:
            fitted, kept = _fit(body, columns, width)
            if key is not None and _stack(body, fitted, kept, columns, columns.index(key), width):
                _stacked(body, columns, columns.index(key), width, out)
                return
            body = fitted
        click.echo(_tabulated(body, columns[:kept]), file=out)
        if width is not None:
            _more_columns(columns[kept:], width, out)
    elif fmt == "csv":
        writer = csv.writer(out or sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(_plain(row.get(column)) for column in columns)
    elif fmt == "json":
        click.echo("[", nl=False, file=out)
        for index, row in enumerate(rows):
            click.echo(("," if index else "") + "\n " + _json(row, columns), nl=False, file=out)
        click.echo("\n]", file=out)
    elif fmt == "nl":
        for row in rows:
            click.echo(_json(row, columns), file=out)
    else:  # pragma: no cover - click restricts the choices
        raise ValueError(fmt)


def _as_dict(row: Any) -> dict:
    """A row by column name: a storage record's fields, or the dict itself."""
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return dataclasses.asdict(row)
    return row


def _terminal_width(out: IO | None) -> int | None:
    """The width to fit: the terminal's, or $COLUMNS; None (no limit) when writing to a
    file or a pipe without $COLUMNS."""
    stream = out or sys.stdout
    if "COLUMNS" in os.environ or (hasattr(stream, "isatty") and stream.isatty()):
        return shutil.get_terminal_size().columns
    return None


def _fit(body: list[list[str]], columns: list[str], width: int) -> tuple[list[list[str]], int]:
    """Cut long text (reasons, titles, URLs) to LONGEST characters, ending it with '…';
    then keep the columns, from the left, that fit `width`. Returns the rows and how many
    columns were kept."""
    cells = [max([0, *(len(row[i]) for row in body)]) for i in range(len(columns))]
    cells = [min(w, max(len(name), LONGEST)) for w, name in zip(cells, columns, strict=True)]
    # tabulate pads a header by two: a column is at least that wide
    widths = [max(w, len(name) + 2) for w, name in zip(cells, columns, strict=True)]
    kept, used = 0, -GAP
    for w in widths:
        if used + GAP + w > width and kept:
            break
        kept, used = kept + 1, used + GAP + w
    return [[_cut(cell, cells[i]) for i, cell in enumerate(row[:kept])] for row in body], kept


def _stack(
    body: list[list[str]],
    fitted: list[list[str]],
    kept: int,
    columns: list[str],
    key: int,
    width: int,
) -> bool:
    """Whether the `key` column is better on lines of its own: when the fitted table cut
    or dropped it, or when lifting it out leaves room for more of the other columns."""
    if key >= kept or any(row[key] != shown[key] for row, shown in zip(body, fitted, strict=True)):
        return True
    rest = columns[:key] + columns[key + 1 :]
    _, kept_apart = _fit([row[:key] + row[key + 1 :] for row in body], rest, width - INDENT)
    return kept_apart > kept - 1


def _stacked(
    body: list[list[str]], columns: list[str], key: int, width: int, out: IO | None
) -> None:
    """The table with its `key` column lifted out: each row's key in full on its own line,
    the row's other columns under it, indented and fitted to the terminal as usual.

        metric
          period      value  change    revisions
          ----------  -----  --------  -----------
        demo.swb.daily_encounters
          2024-08-04  1,096  93        1
    """
    rest = columns[:key] + columns[key + 1 :]
    cells = [[" ".join(cell.split()) for cell in row[:key] + row[key + 1 :]] for row in body]
    cells, kept = _fit(cells, rest, width - INDENT)
    lines = _tabulated(cells, rest[:kept]).splitlines()
    pad = " " * INDENT
    click.echo(columns[key], file=out)
    for line in lines[:2]:
        click.echo(pad + line, file=out)
    for row, line in zip(body, lines[2:], strict=True):
        click.echo(row[key], file=out)
        click.echo(pad + line, file=out)
    _more_columns(rest[kept:], width, out)


def _more_columns(left: list[str], width: int, out: IO | None) -> None:
    if left:
        note = f"({len(left)} more columns: {', '.join(left)}; --wide shows them)"
        click.echo("\n".join(textwrap.wrap(note, width)), file=out)


def _cut(cell: str, width: int) -> str:
    return cell if len(cell) <= width else cell[: width - 1] + "…"


def say(text: str, *, err: bool = False) -> None:
    """Print a line that may hold scraped text, without its control characters (a page
    title must not send escape sequences to the user's terminal)."""
    click.echo(printable(text), err=err)


def _json(row: dict, columns: list[str]) -> str:
    return json.dumps({column: _plain(row.get(column)) for column in columns}, ensure_ascii=False)


def _plain(value: Any) -> Any:
    """3546863.0 is shown as 3546863: stored values are floats, most are counts. Text
    loses its control characters (see `say`)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return printable(value)
    return value


def _readable(value: Any, zone: tzinfo) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return number(value)
    if isinstance(value, str) and STORED_TIME.match(value):
        return moment(value, zone)
    return printable(str(value))


def _tabulated(cells: list[list[str]], headers: list[str]) -> str:
    """tabulate's plain table. Imported here, at the first table: `crawl` prints its lines
    with `say` and no table, and tabulate's imports (importlib.metadata, wcwidth) cost a
    crawl ~0.7 MB at its peak."""
    from tabulate import tabulate

    return tabulate(cells, headers=headers, disable_numparse=True)
