"""The `xlsx` extractor: one table on one sheet of a workbook, read with python-calamine
(Rust; merged ranges included, so openpyxl is not needed), made into a grid and read by
`grid` like an HTML table.

The sheet is found by name or pattern (ICE renames it every fiscal year: `Detention FY26`,
`Detention FY21 YTD`; names carry stray spaces; the order of sheets changes), the table by
its title cell; it ends at the next blank row and the next blank column, so that several
tables on one sheet, side by side or one under another, are each read alone."""

import fnmatch
from datetime import date, datetime, time
from typing import Any

from python_calamine import CalamineError, CalamineSheet, CalamineWorkbook

from core.periods import Period
from scrapers.extract import Extraction, LayoutError, Page
from scrapers.extract.asof import find_as_of
from scrapers.extract.bounds import check_workbook
from scrapers.extract.grid import Cell, Grid, read, rectangular
from scrapers.extract.text import shown, squash
from scrapers.kinds.xlsx import XlsxSource

PERCENT_WORDS = ("percent", "%")


def extract(source: XlsxSource, page: Page) -> Extraction:
    with page.open() as raw:
        check_workbook(raw, page.limits, f"{source.name}: {page.url}")
        raw.seek(0)
        try:
            book = CalamineWorkbook.from_filelike(raw)
        except Exception as error:  # calamine raises its own errors for what is not a workbook
            raise LayoutError(
                f"{source.name}: expected an Excel workbook at {page.url}, but it cannot be "
                f"read as one ({type(error).__name__}: {error})"
            ) from None
    name = pick_sheet(source, book.sheet_names, page)
    try:
        sheet = book.get_sheet_by_name(name)
        values = sheet.to_python(skip_empty_area=False)
    except CalamineError as error:  # damaged XML inside (an undefined entity, a cut part)
        raise LayoutError(
            f"{source.name}: the workbook at {page.url} is damaged: sheet {name.strip()!r} "
            f"cannot be read ({type(error).__name__}: {error}); the site must fix the file"
        ) from None
    top, left = _start(source, values, name, page)
    table = region(values, top, left)
    _fill_merged(sheet, table, values, top, left)
    cells = [[as_cell(value) for value in row] for row in table]
    where = f"sheet {name.strip()!r} of {page.url}"
    if source.table_title:
        where = f"the table {squash(str(values[top - 1][left]))!r} on {where}"
    grid = Grid(_fractions_as_percents(source, rectangular(cells)), where)
    if source.as_of_sheet or source.as_of_cell:
        as_of = _as_of_elsewhere(source, book, name, page)
    else:
        as_of = find_as_of(source, page, lambda: _sheet_text(values))
    return read(source, grid, as_of)


def pick_sheet(source: XlsxSource, names: list[str], page: Page, what: str = "") -> str:
    """The first sheet whose name (stray spaces ignored, any case) matches `sheet` (or
    `what`: another sheet's name or pattern)."""
    pattern = what or source.sheet
    if not pattern:
        if not names:
            raise LayoutError(f"{source.name}: the workbook at {page.url} has no sheets")
        return names[0]
    wanted = pattern.strip().lower()
    for name in names:
        if fnmatch.fnmatchcase(name.strip().lower(), wanted):
            return name
    raise LayoutError(
        f"{source.name}: expected a sheet named {pattern!r}"
        f"{' (for the as-of date)' if what else ''} in the workbook at {page.url}, "
        f"found the sheets {shown([name.strip() for name in names], 20)}"
    )


def _as_of_elsewhere(
    source: XlsxSource, book: CalamineWorkbook, table_sheet: str, page: Page
) -> Period | None:
    """The as-of date from another sheet (ICE's 'Footnotes': "a snapshot as of
    02/07/2026") or one cell of it."""
    name = table_sheet
    if source.as_of_sheet:
        name = pick_sheet(source, book.sheet_names, page, source.as_of_sheet)
    values = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    where = f"sheet {name.strip()!r}"
    if not source.as_of_cell:
        return find_as_of(source, page, lambda: _sheet_text(values), where)
    row, column = _cell_address(source.as_of_cell)
    value = _at(values[row], column, None) if row < len(values) else None
    where = f"cell {source.as_of_cell.upper()} of {where}"
    return find_as_of(source, page, lambda: squash(str(value)) if _filled(value) else "", where)


def _cell_address(address: str) -> tuple[int, int]:
    """'B3' -> (2, 1): row and column, counted from 0."""
    letters = address.rstrip("0123456789")
    column = 0
    for letter in letters.upper():
        column = column * 26 + ord(letter) - ord("A") + 1
    return int(address[len(letters) :]) - 1, column - 1


def _start(source: XlsxSource, values: list[list[Any]], sheet: str, page: Page) -> tuple[int, int]:
    """The top-left cell of the table: below its title cell (blank rows skipped), else the
    sheet's first filled cell."""
    if source.table_title:
        wanted = squash(source.table_title).lower()
        titles = []
        for row_index, row in enumerate(values):
            for column, value in enumerate(row):
                if isinstance(value, str) and value.strip():
                    text = squash(value)
                    if wanted in text.lower():
                        return _next_filled_row(values, row_index + 1, column), column
                    if len(text) > 20 and _is_alone(row, column):
                        titles.append(text[:80])
        raise LayoutError(
            f"{source.name}: expected a table titled {source.table_title!r} on sheet "
            f"{sheet.strip()!r} of {page.url}, found the titles {shown(titles)}"
        )
    for row_index, row in enumerate(values):
        for column, value in enumerate(row):
            if _filled(value):
                return row_index, column
    raise LayoutError(f"{source.name}: sheet {sheet.strip()!r} of {page.url} is empty")


def _is_alone(row: list[Any], column: int) -> bool:
    """A title cell: nothing filled right after it."""
    return not any(_filled(value) for value in row[column + 1 : column + 3])


def _next_filled_row(values: list[list[Any]], row_index: int, column: int) -> int:
    while row_index < len(values) and not any(_filled(v) for v in values[row_index][column:]):
        row_index += 1
    return row_index


def region(values: list[list[Any]], top: int, left: int) -> list[list[Any]]:
    """From the top-left cell down to the next blank row (blank under the whole header) and
    right to the next blank column (blank over all the table's rows)."""
    header = values[top] if top < len(values) else []
    edge = left + 1
    while edge < len(header) and _filled(header[edge]):
        edge += 1
    bottom = top
    while bottom < len(values) and any(_filled(v) for v in values[bottom][left:edge]):
        bottom += 1
    if bottom == top:
        return []
    width = max(len(row) for row in values[top:bottom])
    right = edge
    while right < width and any(_filled(_at(row, right, None)) for row in values[top:bottom]):
        right += 1
    return [row[left:right] for row in values[top:bottom]]


def _at(row: list[Any], column: int, default: Any) -> Any:
    return row[column] if column < len(row) else default


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _fill_merged(
    sheet: CalamineSheet, region: list[list[Any]], values: list[list[Any]], top: int, left: int
) -> None:
    """A merged range's value fills each of its cells inside the table (a header over
    several columns, a label over several rows)."""
    for (row0, col0), (row1, col1) in sheet.merged_cell_ranges or []:
        if not (0 <= row0 < len(values) and 0 <= col0 < len(values[row0])):
            continue
        value = values[row0][col0]
        for row in range(max(row0, top), min(row1, top + len(region) - 1) + 1):
            for column in range(max(col0, left), col1 + 1):
                if (row, column) != (row0, col0) and column - left < len(region[row - top]):
                    region[row - top][column - left] = value


def as_cell(value: Any) -> Cell:
    kind = type(value)
    if kind is str:
        return Cell(" ".join(value.split()))
    if kind is float:
        return Cell(str(int(value)) if value.is_integer() else repr(value))
    if isinstance(value, bool) or value is None:
        return Cell("")
    if isinstance(value, float):
        return Cell(str(int(value)) if value.is_integer() else repr(value))
    if isinstance(value, int):
        return Cell(str(value))
    if isinstance(value, datetime):
        return Cell(value.date().isoformat() if value.time() == time() else value.isoformat())
    if isinstance(value, date):
        return Cell(value.isoformat())
    return Cell(squash(str(value)))


def _fractions_as_percents(source: XlsxSource, rows: list[list[Cell]]) -> list[list[Cell]]:
    """Percent cells are stored as fractions (0.842 shown as 84.2%): a column whose header
    says percent (or is listed in `percent_columns`) and holds only fractions is read as
    percents."""
    if len(rows) < 2:
        return rows
    listed = {squash(name).lower() for name in source.percent_columns}
    for column in range(len(rows[0])):
        header = " ".join(row[column].text for row in rows[:2]).lower()
        named = any(name in header for name in listed) if listed else False
        said = any(word in header for word in PERCENT_WORDS)
        numbers = [_float(row[column].text) for row in rows[1:]]
        numbers_only = [n for n in numbers if n is not None]
        if not numbers_only or not (named or (said and all(-1 <= n <= 1 for n in numbers_only))):
            continue
        for row, number in zip(rows[1:], numbers, strict=True):
            if number is not None:
                row[column] = row[column]._replace(text=f"{round(number * 100, 8)!r}%")
    return rows


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _sheet_text(values: list[list[Any]]) -> str:
    return " ".join(squash(str(v)) for row in values for v in row if _filled(v))
