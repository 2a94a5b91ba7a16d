"""The date a file's figures are as of, read from its file name, the text of the link it
was found by, or its own text (ICE names its workbook `FY26_detentionStats_02122026.xlsx`:
data as of 2026-02-12)."""

import re
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from core.checked import compiled
from core.periods import Period, PeriodError, month_number
from scrapers.extract import LayoutError, Page
from scrapers.kinds.tabular import Tabular


def find_as_of(
    source: Tabular, page: Page, text: Callable[[], str], where: str = "the text"
) -> Period | None:
    """The as-of date per the source's `as_of` and `as_of_regex` (None when not asked for);
    `text` gives the document's own text (or the part of it `where` names: "sheet
    'Footnotes'"), read only when needed."""
    if not source.as_of or not source.as_of_regex:
        return None
    if source.as_of == "file":
        where, searched = "the file name", unquote(urlsplit(page.url).path.rsplit("/", 1)[-1])
    elif source.as_of == "link":
        where, searched = "the link text", page.link_text
    else:
        searched = text()
    match = compiled(source.as_of_regex).search(searched)
    if match is None:
        raise LayoutError(
            f"{source.name}: expected the as-of date ({source.as_of_regex!r}) in {where} of "
            f"{page.url}, found no match in {searched[:200]!r}"
        )
    try:
        return _period(match)
    except (PeriodError, ValueError) as error:
        raise LayoutError(
            f"{source.name}: the as-of date {match.group(0)!r} in {where} of {page.url} is not "
            f"a date: {error}"
        ) from None


def _period(match: re.Match[str]) -> Period:
    named = match.groupdict()
    if named.get("year") and named.get("month"):
        year = int(named["year"])
        year = year + 2000 if year < 100 else year
        month_text = named["month"]
        month = int(month_text) if month_text.isdigit() else month_number(month_text)
        if named.get("day"):
            return Period.parse(f"{year:04d}-{month:02d}-{int(named['day']):02d}")
        return Period.parse(f"{year:04d}-{month:02d}")
    return Period.parse(match.group(1) if match.groups() else match.group(0))
