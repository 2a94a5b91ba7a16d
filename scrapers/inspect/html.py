"""An HTML page: its tables, its figure cards (headline numbers with their words and date)
and its links to data files (scrapers.inspect.links)."""

import lxml.html

from scrapers.extract import LayoutError, Page
from scrapers.extract.grid import Grid
from scrapers.extract.table import expand, find_table, titles
from scrapers.extract.text import squash
from scrapers.inspect import cards, links, listings
from scrapers.inspect.grids import shape
from scrapers.inspect.paths import css_path
from scrapers.inspect.survey import Candidate, Found
from scrapers.kinds.table import TableSource

TITLE_LENGTH = 80  # characters of a title kept as `caption` (it is matched as contained)


def candidates(page: Page, prefix: str) -> Found:
    root = lxml.html.document_fromstring(page.body or b"<html></html>")
    found = Found()
    tables = root.xpath("//table")
    unread: list[str] = []  # why each table that is no candidate is not
    for index, table in enumerate(tables):
        candidate, why = _table(page, table, index, prefix)
        if candidate is not None:
            found.candidates.append(candidate)
        else:
            unread.append(why)
    if unread:
        numbers = unread.count("no periods")
        said = f"{numbers} with numbers but no periods" if numbers else "none with numbers"
        found.seen.append(
            f"{len(unread)} tables{' more' if len(unread) < len(tables) else ''}, {said}"
        )
    elif not tables:
        found.seen.append("no tables")
    carded = cards.candidates(page, root, prefix)
    found.candidates += carded.candidates
    found.seen += carded.seen
    listed = listings.candidates(page, root)
    found.candidates += listed.candidates
    linked = links.candidates(page, root)
    found.candidates += linked.candidates
    found.seen += linked.seen
    return found


def _table(
    page: Page, table: lxml.html.HtmlElement, index: int, prefix: str
) -> tuple[Candidate | None, str]:
    """The table as a candidate, or why it is none ('no numbers', 'no periods')."""
    rows = expand(table)
    if len(rows) < 2:
        return None, "no numbers"
    grid = Grid(rows, f"the table at {page.url}", len(table.xpath("./thead/tr")))
    read = shape(grid, prefix)
    if not read.numbers:
        return None, "no numbers"
    if not read.periods:
        return None, "no periods"
    title = next((squash(text) for text in titles(table) if squash(text)), "")
    keys = {**_locator(page, table, index, title), **read.keys}
    if read.periods == "columns":
        keys.pop("periods", None)
    named = f"table {index + 1} {title[:TITLE_LENGTH]!r}" if title else f"table {index + 1}"
    return Candidate(f"{named}: periods in {read.periods}", "table", keys, read.details), ""


def _locator(page: Page, table: lxml.html.HtmlElement, index: int, title: str) -> dict:
    """The key that finds this table again: the words of its caption or title (survive
    redesigns), else a CSS path; none for the page's first table."""
    tried = [("caption", _cut(title))] if title else []
    tried.append(("selector", css_path(table)))
    for key, value in tried:
        probe = TableSource(name="inspect", url=page.url, metric="x", **{key: value})  # type: ignore[arg-type]
        try:
            if _same(find_table(probe, page), table):
                return {} if index == 0 and key == "selector" else {key: value}
        except (LayoutError, ValueError):  # a selector cssselect cannot read is no locator
            continue
    return {}


def _same(found: lxml.html.HtmlElement, table: lxml.html.HtmlElement) -> bool:
    """The same table in another parse of the page: same place in the document."""
    return found.getroottree().getpath(found) == table.getroottree().getpath(table)


def _cut(title: str) -> str:
    """A long title cut at a word (a caption matches when contained)."""
    if len(title) <= TITLE_LENGTH:
        return title
    return title[:TITLE_LENGTH].rsplit(" ", 1)[0]
