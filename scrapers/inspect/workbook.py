"""An Excel workbook: its sheets and the titled tables on each (a title cell alone in its
row, the table below it), proposed as `xlsx` sources found by sheet pattern and title.
A table without periods takes the date in the file's name or link text (`as_of`)."""

import fnmatch
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from python_calamine import CalamineWorkbook

from scrapers.extract import Page
from scrapers.extract.grid import Grid, rectangular
from scrapers.extract.text import squash
from scrapers.extract.xlsx import as_cell, region
from scrapers.inspect.grids import SAMPLED, shape
from scrapers.inspect.survey import Candidate, Found, InspectError

MAX_SHEETS = 60  # sheets read; a workbook with more is read in part and says so
TITLE_LENGTH = 80
# A date in a file name or link text: ICE's 02122026 (MMDDYYYY), or an ISO date.
FILE_DATES = (
    (re.compile(r"(?<!\d)(0[1-9]|1[0-2])([0-3]\d)(20\d\d)(?!\d)"),
     r"(?P<month>\d\d)(?P<day>\d\d)(?P<year>\d{4})"),
    (re.compile(r"(20\d\d)-(0[1-9]|1[0-2])-([0-3]\d)"),
     r"(?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d)"),
)  # fmt: skip


def candidates(page: Page, prefix: str) -> Found:
    with page.open() as raw:
        try:
            book = CalamineWorkbook.from_filelike(raw)
        except Exception as error:  # calamine's own errors for what is not a workbook
            raise InspectError(
                f"the file at {page.url} looks like a workbook but cannot be read as one "
                f"({type(error).__name__}: {error}); open it in a spreadsheet to check it"
            ) from None
    found = Found()
    names = book.sheet_names
    empty = 0
    for name in names[:MAX_SHEETS]:
        values = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        tables = _tables(values)
        if not tables:
            empty += 1
        titles = [title for title, _, _ in tables]
        for title, top, left in tables:
            title = _lasting(title, titles)
            candidate = _candidate(page, prefix, names, name, values, title, top, left)
            if candidate is not None:
                found.candidates.append(candidate)
    read = f", the first {MAX_SHEETS} read" if len(names) > MAX_SHEETS else ""
    found.seen.append(f"{len(names)} sheets{read} ({empty} without a table)")
    return found


def _tables(values: list[list[Any]]) -> list[tuple[str, int, int]]:
    """(title, top row, left column) of each titled table on a sheet; the sheet's first
    table, untitled, when none has a title."""
    found = []
    for row_index, row in enumerate(values):
        for column, text in enumerate(row):
            if type(text) is not str or len(text) < 12 or len(squash(text)) < 12:
                continue
            if any(_filled(v) for v in row[column + 1 : column + 3]):
                continue  # a title stands alone: nothing right beside it
            below = _next_filled(values, row_index + 1)
            if (
                below is not None
                and sum(_filled(v) for v in values[below][column : column + 6]) >= 2
            ):
                found.append((squash(text), below, column))
    if found:
        return found
    for row_index, row in enumerate(values):
        filled = [c for c, v in enumerate(row) if _filled(v)]
        if len(filled) >= 2:
            return [("", row_index, filled[0])]
    return []


def _candidate(page, prefix, names, name, values, title, top, left) -> Candidate | None:
    table = region(values, top, left)
    if len(table) < 2:
        return None
    # Its shape is judged on its first rows (a sheet may hold 15,000); the dry run reads all.
    cells = [[as_cell(value) for value in row] for row in table[: SAMPLED + 5]]
    grid = Grid(rectangular(cells), f"sheet {name.strip()!r}")
    read = shape(grid, prefix)
    if len(table) > len(cells):
        read.details.append(
            f"{len(table) - 1:,} rows: the lines above are of the first {len(cells)}"
        )
    keys: dict[str, Any] = {"sheet": _sheet_pattern(name, names)}
    if title:
        keys["table_title"] = _cut(title)
    keys.update(read.keys)
    details = list(read.details)
    if not read.periods:
        dated = _as_of(page)
        if dated is None:
            return None
        keys.update(dated)
        keys["periods"] = "as_of"
        keys["metric"] = f"{prefix}.{{row}}.{{column}}"
        details.append(
            f"no periods in the table: every value is as of the date in the {dated['as_of']}"
        )
    elif read.periods == "columns":
        keys.pop("periods", None)
    where = f"sheet {name.strip()!r}" + (f", table {title[:TITLE_LENGTH]!r}" if title else "")
    return Candidate(f"{where}: periods {read.periods or 'as of the file date'}", "xlsx",
                     keys, details)  # fmt: skip


def _as_of(page: Page) -> dict[str, str] | None:
    name = unquote(urlsplit(page.url).path.rsplit("/", 1)[-1])
    for where, text in (("file", name), ("link", page.link_text)):
        for pattern, regex in FILE_DATES:
            if pattern.search(text):
                suffix = re.escape(name[name.rfind(".") :]) + "$" if where == "file" else ""
                return {"as_of": where, "as_of_regex": regex + suffix}
    return None


def _sheet_pattern(name: str, names: list[str]) -> str:
    """The sheet's name with its numbers as '*' (ICE renames 'Detention FY25' to
    'Detention FY26' every year), when that still picks this sheet first."""
    pattern = re.sub(r"\d+", "*", name.strip())
    first = next(
        (n for n in names if fnmatch.fnmatchcase(n.strip().lower(), pattern.lower())), None
    )
    return pattern if first == name else name.strip()


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _next_filled(values: list[list[Any]], row_index: int) -> int | None:
    for index in range(row_index, min(row_index + 4, len(values))):
        if any(_filled(v) for v in values[index]):
            return index
    return None


YEAR_AT_END = re.compile(r"[:,]?\s*\bFY\s?\d{2,4}(\s*-\s*(FY\s?)?\d{2,4})?\s*$")


def _lasting(title: str, titles: list[str]) -> str:
    """The title without the fiscal year at its end ('...: FY2026'), which changes every
    year, when the rest still names one table alone."""
    short = YEAR_AT_END.sub("", title)
    if short == title or len(short) < 12:
        return title
    if sum(short.lower() in other.lower() for other in titles) == 1:
        return short
    return title


def _cut(title: str) -> str:
    return title if len(title) <= TITLE_LENGTH else title[:TITLE_LENGTH].rsplit(" ", 1)[0]
