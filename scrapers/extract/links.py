"""Finding the file a streamed source reads on its landing page: the newest link whose
address matches the source's `file_link` (CBP and ICE rename their files every release)."""

import re
from typing import NamedTuple
from urllib.parse import urljoin

from parsel import Selector

from core.checked import compiled
from core.periods import PeriodError, month_number
from scrapers.extract import LayoutError, Page
from scrapers.extract.text import squash
from scrapers.source import Source

# A year-month in a file's address: CBP files sit in folders like /2025-09/ or /2023-Nov/.
URL_DATE = re.compile(r"(20\d\d)[-_/]?(0[1-9]|1[0-2]|[A-Za-z]{3})\b")
# A month-day-year in a file name: ICE's FY26_detentionStats_02122026.xlsx.
US_DATE = re.compile(r"(?<!\d)(0[1-9]|1[0-2])([0-3]\d)(20\d\d)(?!\d)")


class Link(NamedTuple):
    url: str
    text: str  # the link's text, squashed (the as-of date may be there)


def find_file(source: Source, page: Page) -> Link:
    """The newest link on the landing page that matches `link` (by the date in its address:
    a year-month folder or an MMDDYYYY name; the first on the page when they have none).
    A file linked twice counts once."""
    anchors = Selector(text=page.text).css("a[href]")
    pattern = compiled(source.file_link)
    matches: dict[str, str] = {}
    for anchor in anchors:
        href = urljoin(page.url, (anchor.attrib.get("href") or "").strip())
        if pattern.search(href):
            text = squash(" ".join(anchor.css("::text").getall()))
            if not matches.get(href):
                matches[href] = text
    if not matches:
        raise LayoutError(
            f"{source.name}: expected a link matching {pattern.pattern!r} at {page.url}, found "
            f"none among {len(anchors)} links"
        )
    ranked = sorted(enumerate(matches), key=lambda pair: (_url_date(pair[1]), -pair[0]))
    url = ranked[-1][1]
    return Link(url, matches[url])


def _url_date(url: str) -> tuple[int, int, int]:
    name = url.rsplit("/", 1)[-1]
    if match := US_DATE.search(name):
        return (int(match.group(3)), int(match.group(1)), int(match.group(2)))
    match = URL_DATE.search(url)
    if not match:
        return (0, 0, 0)
    month = match.group(2)
    try:
        return (int(match.group(1)), int(month) if month.isdigit() else month_number(month), 0)
    except PeriodError:
        return (int(match.group(1)), 0, 0)
