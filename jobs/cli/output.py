"""Output options shared by every listing command, in the style of sqlite-utils:
--table (default, for reading), --csv, --json and --nl (for other programs).

Tables show numbers with thousands separators and times in the configured timezone;
the machine formats give stored values as they are (times in UTC, ISO 8601)."""

import csv
import json
import re
import sys
from collections.abc import Callable, Iterable
from datetime import tzinfo
from typing import IO, Any

import click
from tabulate import tabulate

from storage import printable
from storage.formatting import moment, number

FORMATS = ("table", "csv", "json", "nl")
# The id of a stored row (snapshot, message, silence): SQLite ids are 64-bit, and a larger
# number would not even bind as a query parameter, so it is refused as a usage error.
ROW_ID = click.IntRange(1, 2**63 - 1)
STORED_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def output_options(command: Callable) -> Callable:
    """Add --table/--csv/--json/--nl (one `fmt` argument) to a command."""
    helps = {
        "table": "Aligned table for reading (default).",
        "csv": "Comma-separated values with a header row.",
        "json": "A JSON array of objects.",
        "nl": "Newline-delimited JSON: one object per line.",
    }
    for name in reversed(FORMATS):
        command = click.option(f"--{name}", "fmt", flag_value=name, help=helps[name])(command)
    return command


def emit(
    rows: Iterable[dict],
    fmt: str | None,
    *,
    columns: list[str],
    zone: tzinfo,
    out: IO | None = None,
) -> None:
    """Write rows (to stdout, or `out`) in the chosen format; streamed except tables."""
    fmt = fmt or "table"  # no format option given
    if fmt == "table":
        body = [[_readable(row.get(column), zone) for column in columns] for row in rows]
        click.echo(tabulate(body, headers=columns, disable_numparse=True), file=out)
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
