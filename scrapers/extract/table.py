"""The `table` extractor: an HTML table, with multi-row headers (rowspan/colspan), group
rows, Subtotal and Total rows, and periods along the columns or down the rows."""

import re
from typing import NamedTuple

import lxml.html
from lxml.cssselect import CSSSelector

from scrapers.extract import Extraction, LayoutError, Page
from scrapers.extract.text import shown, slug, squash
from scrapers.kinds.table import TableSource
from scrapers.numbers import NumberError, parse_number
from storage import Observation
from storage.periods import Period, PeriodError


class Cell(NamedTuple):
    text: str
    header: bool


def extract(source: TableSource, page: Page) -> Extraction:
    table = find_table(source, page)
    grid = expand(table)
    header_rows = 0
    while header_rows < len(grid) and all(cell.header for cell in grid[header_rows]):
        header_rows += 1
    header_rows = max(header_rows, len(table.xpath("./thead/tr")))
    if not header_rows or header_rows == len(grid):
        raise LayoutError(
            f"{source.name}: expected a table with a header row and data rows at {page.url}, "
            f"found {len(grid)} rows of which {header_rows} are headers"
        )
    headers = [_header_levels(grid[:header_rows], column) for column in range(len(grid[0]))]
    _check_columns(source, headers, page)
    body = grid[header_rows:]
    if source.periods == "columns":
        extraction = _periods_in_columns(source, headers, body, page)
    else:
        extraction = _periods_in_rows(source, headers, body, page)
    if not extraction.observations:
        raise LayoutError(
            f"{source.name}: the table at {page.url} has {len(body)} data rows but no values"
        )
    return extraction


def find_table(source: TableSource, page: Page) -> lxml.html.HtmlElement:
    root = lxml.html.document_fromstring(page.body or b"<html></html>")
    tables = root.xpath("//table")
    if source.selector:
        for element in CSSSelector(source.selector)(root):
            return element if element.tag == "table" else next(iter(element.iter("table")), None)
        raise LayoutError(
            f"{source.name}: expected a table matching {source.selector!r} at {page.url}, "
            f"found none ({len(tables)} tables on the page)"
        )
    if source.caption:
        wanted = squash(source.caption).lower()
        for table in tables:
            nearby = table.xpath("./caption") + table.xpath("preceding-sibling::*[1]")
            if any(wanted in squash(element.text_content()).lower() for element in nearby):
                return table
        raise LayoutError(
            f"{source.name}: expected a table titled {source.caption!r} at {page.url}, found "
            f"none among {len(tables)} tables"
        )
    if not tables:
        raise LayoutError(f"{source.name}: expected a table at {page.url}, found none")
    return tables[0]


def expand(table: lxml.html.HtmlElement) -> list[list[Cell]]:
    """The table as a rectangular grid: a cell spanning rows or columns fills each."""
    grid: list[list[Cell]] = []
    pending: dict[tuple[int, int], Cell] = {}
    for row_index, row in enumerate(table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")):
        cells: list[Cell] = []
        column = 0
        for element in row:
            if element.tag not in ("td", "th"):
                continue
            while (row_index, column) in pending:
                cells.append(pending.pop((row_index, column)))
                column += 1
            # Most cells hold bare text: reading it directly is cheaper than text_content().
            raw = (element.text or "") if len(element) == 0 else element.text_content()
            cell = Cell(squash(raw), element.tag == "th")
            colspan, rowspan = _span(element, "colspan"), _span(element, "rowspan")
            for right in range(colspan):
                cells.append(cell)
                for down in range(1, rowspan):
                    pending[(row_index + down, column + right)] = cell
            column += colspan
        while (row_index, column) in pending:
            cells.append(pending.pop((row_index, column)))
            column += 1
        grid.append(cells)
    width = max((len(row) for row in grid), default=0)
    return [row + [Cell("", False)] * (width - len(row)) for row in grid]


def _span(element: lxml.html.HtmlElement, name: str) -> int:
    if (value := element.get(name)) is None:
        return 1
    try:
        return max(1, min(int(value), 1000))
    except ValueError:
        return 1


def _header_levels(header_rows: list[list[Cell]], column: int) -> list[str]:
    levels: list[str] = []
    for row in header_rows:
        text = row[column].text
        if text and (not levels or levels[-1] != text):
            levels.append(text)
    return levels


def _check_columns(source: TableSource, headers: list[list[str]], page: Page) -> None:
    present = {text.lower() for levels in headers for text in levels}
    missing = [name for name in source.columns if squash(name).lower() not in present]
    if missing:
        found = [" / ".join(levels) for levels in headers]
        raise LayoutError(
            f"{source.name}: expected columns {shown(list(source.columns))} at {page.url}, "
            f"but {shown(missing)} are not in the header {shown(found)}"
        )


def _periods_in_columns(
    source: TableSource, headers: list[list[str]], body: list[list[Cell]], page: Page
) -> Extraction:
    periods: dict[int, tuple[Period, str]] = {}
    for column, levels in enumerate(headers):
        if not levels:
            continue
        try:
            periods[column] = (Period.parse(levels[-1]), " ".join(levels[:-1]))
        except PeriodError:
            continue
    if not periods:
        found = [" / ".join(levels) for levels in headers]
        raise LayoutError(
            f"{source.name}: expected period columns (like 'FY 2022' or 'Oct-24') in the "
            f"table at {page.url}, found the header {shown(found)}"
        )
    label_columns = list(range(min(periods)))
    label_keys = [slug(headers[column][-1]) if headers[column] else "" for column in label_columns]
    row_filter = re.compile(source.rows) if source.rows else None
    extraction, group = Extraction(), ""
    made: dict[tuple[str, str], str] = {}  # (metric, period) -> the row path that made it
    for cells in body:
        labels = _distinct(cells[column].text for column in label_columns)
        if not labels:
            continue
        if labels[0].lower().startswith("total"):
            group = ""
        if all(not cells[column].text for column in periods):
            group = labels[-1]
            continue
        if row_filter and not row_filter.search(" ".join(labels)):
            continue
        path = [group, *labels] if group and group not in labels else labels
        names = {
            "row": ".".join(slug(part) for part in path),
            "group": slug(group),
            **{
                key: slug(cells[column].text)
                for key, column in zip(label_keys, label_columns, strict=True)
            },
        }
        metrics: dict[str, str] = {}  # by the header text above the period
        for column, (period, above) in periods.items():
            number = _number(source, cells[column].text, path, headers[column], page)
            if number.value is None:
                continue
            if (metric := metrics.get(above)) is None:
                names["column"] = slug(above)
                metric = metrics[above] = _render(source, source.metric, names, headers, page)
            key = (metric, period.text)
            if key in made:
                raise LayoutError(
                    f"{source.name}: rows {made[key]!r} and {' / '.join(path)!r} both give "
                    f"{metric} for {period.text}: put {{row}} or {{group}} in the metric template"
                )
            made[key] = " / ".join(path)
            extraction.add(
                Observation(
                    metric,
                    period.text,
                    number.value,
                    number.unit or source.unit,
                    _flags(period.flags, number.flags),
                ),
                label=" / ".join(filter(None, [*path, above])),
                source=source.name,
            )
    return extraction


def _periods_in_rows(
    source: TableSource, headers: list[list[str]], body: list[list[Cell]], page: Page
) -> Extraction:
    names = [levels[-1] if levels else "" for levels in headers]
    lowered = [name.lower() for name in names]
    period_column = 0
    if source.period_column:
        if source.period_column.lower() not in lowered:
            raise LayoutError(
                f"{source.name}: expected a period column {source.period_column!r} at "
                f"{page.url}, found the header {shown(names)}"
            )
        period_column = lowered.index(source.period_column.lower())
    wanted = {name.lower() for name in source.columns} - {names[period_column].lower()}
    value_columns = [
        column
        for column, name in enumerate(lowered)
        if column != period_column and (not wanted or name in wanted)
    ]
    extraction = Extraction()
    for line, cells in enumerate(body, start=1):
        label = cells[period_column].text
        if not label or label.lower().startswith("total"):
            continue
        try:
            period = Period.parse(label)
        except PeriodError as error:
            raise LayoutError(
                f"{source.name}: expected a period in column {names[period_column]!r} at "
                f"{page.url}, found {label!r} ({error})"
            ) from None
        for column in value_columns:
            number = _number(source, cells[column].text, [label], headers[column], page)
            if number.value is None:
                continue
            metric = _render(source, source.metric, {"column": slug(names[column])}, headers, page)
            extraction.add(
                Observation(
                    metric,
                    period.text,
                    number.value,
                    number.unit or source.unit,
                    _flags(period.flags, number.flags),
                ),
                label=names[column],
                source=source.name,
                origin=f"row {line} ({label!r})",
            )
    return extraction


def _number(source: TableSource, text: str, path: list[str], levels: list[str], page: Page):
    try:
        return parse_number(text)
    except NumberError:
        raise LayoutError(
            f"{source.name}: expected a number in row {' / '.join(path)!r}, column "
            f"{' / '.join(levels)!r} at {page.url}, found {text!r}"
        ) from None


def _render(
    source: TableSource, template: str, names: dict[str, str], headers: list[list[str]], page: Page
) -> str:
    try:
        return template.format_map(names)
    except KeyError as error:
        keys = sorted(name for name in names if name)
        raise LayoutError(
            f"{source.name}: the metric template {template!r} names {{{error.args[0]}}}, but "
            f"the table at {page.url} offers {', '.join('{' + key + '}' for key in keys)}"
        ) from None


def _flags(period: tuple[str, ...], number: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*period, *number])) if number else period


def _distinct(texts) -> list[str]:
    labels: list[str] = []
    for text in texts:
        if text and (not labels or labels[-1] != text):
            labels.append(text)
    return labels
