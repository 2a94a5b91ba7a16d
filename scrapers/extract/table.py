"""The `table` extractor: an HTML table made into a grid (rowspan/colspan filled in, <br>
as a space, <sup> footnote marks as flags, padded cells stripped), read by `grid`."""

import lxml.html
from lxml.cssselect import CSSSelector

from scrapers.extract import Extraction, LayoutError, Page
from scrapers.extract.asof import find_as_of
from scrapers.extract.grid import Cell, Grid, read, rectangular
from scrapers.extract.text import squash
from scrapers.kinds.table import TableSource

BLOCKS = frozenset({"br", "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr"})
BOLD = frozenset({"b", "strong"})


def extract(source: TableSource, page: Page) -> Extraction:
    table = find_table(source, page)
    grid = Grid(expand(table), f"the table at {page.url}", len(table.xpath("./thead/tr")))
    as_of = find_as_of(source, page, lambda: squash(table.getroottree().getroot().text_content()))
    return read(source, grid, as_of)


def find_table(source: TableSource, page: Page) -> lxml.html.HtmlElement:
    root = lxml.html.document_fromstring(page.body or b"<html></html>")
    tables = root.xpath("//table")
    if source.selector:
        for element in CSSSelector(source.selector)(root):
            found = element if element.tag == "table" else next(iter(element.iter("table")), None)
            if found is not None:
                return found
        raise LayoutError(
            f"{source.name}: expected a table matching {source.selector!r} at {page.url}, "
            f"found none; the page has {_tables_seen(tables)}"
        )
    if source.caption:
        wanted = squash(source.caption).lower()
        for table in tables:
            if any(wanted in title.lower() for title in titles(table)):
                return table
        raise LayoutError(
            f"{source.name}: expected a table titled {source.caption!r} at {page.url}, found "
            f"none; the page has {_tables_seen(tables)}"
        )
    if not tables:
        raise LayoutError(f"{source.name}: expected a table at {page.url}, found none")
    return tables[0]


def titles(table: lxml.html.HtmlElement) -> list[str]:
    """Its caption, and the element just before it (TRAC's "Table 1." paragraph, CBP's <h3>)."""
    nearby = table.xpath("./caption") + table.xpath("preceding-sibling::*[1]")
    return [_cell(element).text for element in nearby]


def _tables_seen(tables: list[lxml.html.HtmlElement]) -> str:
    """What the page had, for a reason: how many tables, their titles and first headers."""
    if not tables:
        return "no table at all"
    seen = []
    for table in tables[:8]:
        named = [title[:60] for title in titles(table) if title]
        first = table.xpath(".//tr[1]")
        header = [squash(cell.text_content())[:30] for cell in first[0]][:4] if first else []
        seen.append(f"{' / '.join(named) or '(untitled)'} {header}")
    more = f" (+{len(tables) - 8} more)" if len(tables) > 8 else ""
    return f"{len(tables)} tables: " + "; ".join(seen) + more


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
            while pending and (row_index, column) in pending:
                cells.append(pending.pop((row_index, column)))
                column += 1
            cell = _cell(element)
            spans = element.get("colspan"), element.get("rowspan")
            if spans == (None, None):  # most cells: one column, one row
                cells.append(cell)
                column += 1
                continue
            colspan, rowspan = _span(spans[0]), _span(spans[1])
            for right in range(colspan):
                cells.append(cell)
                for down in range(1, rowspan):
                    pending[(row_index + down, column + right)] = cell
            column += colspan
        while pending and (row_index, column) in pending:
            cells.append(pending.pop((row_index, column)))
            column += 1
        grid.append(cells)
    return rectangular(grid)


def _cell(element: lxml.html.HtmlElement) -> Cell:
    """A cell's text with line breaks as spaces and padding stripped, footnote marks
    (<sup>) taken out as flags, and whether it is all bold."""
    header = element.tag == "th"
    if len(element) == 0:  # most cells hold bare text: the fast path
        return Cell(squash(element.text or ""), header, _bold_style(element))
    parts: list[str] = [element.text or ""]
    bold_parts: list[str] = []
    marks: list[str] = []
    _walk(element, parts, bold_parts, marks, bold=False)
    text = squash("".join(parts))
    bold = _bold_style(element) or (bool(text) and squash("".join(bold_parts)) == text)
    return Cell(text, header, bold, tuple(marks))


def _walk(element, parts: list[str], bold_parts: list[str], marks: list[str], bold: bool) -> None:
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "sup":
            if mark := squash(child.text_content()):
                marks.append(f"footnote:{mark}")
        elif tag:
            inner = bold or tag in BOLD
            if tag in BLOCKS:
                parts.append(" ")
            parts.append(child.text or "")
            if inner:
                bold_parts.append(child.text or "")
            _walk(child, parts, bold_parts, marks, inner)
            if tag in BLOCKS:
                parts.append(" ")
        parts.append(child.tail or "")
        if bold:
            bold_parts.append(child.tail or "")


def _bold_style(element: lxml.html.HtmlElement) -> bool:
    if (style := element.get("style")) is None:
        return False
    style = style.replace(" ", "").lower()
    return "font-weight:bold" in style or "font-weight:700" in style


def _span(value: str | None) -> int:
    """A colspan or rowspan attribute as a count of cells (1 when absent or garbled)."""
    if value is None:
        return 1
    try:
        return max(1, min(int(value), 1000))
    except ValueError:
        return 1
