"""Finding the file to fetch on a listing page, for a source whose `file_link` is set
(CBP renames its CSV file with every release, so the page linking it is what is known)."""

import re
from urllib.parse import urljoin

from parsel import Selector

from scrapers.extract import LayoutError, Page
from scrapers.source import Source
from storage.periods import PeriodError, month_number

# A year-month in a file's address: CBP files sit in folders like /2025-09/ or /2023-Nov/.
URL_DATE = re.compile(r"(20\d\d)[-_/]?(0[1-9]|1[0-2]|[A-Za-z]{3})\b")


def find_file(source: Source, page: Page) -> str:
    """The newest link on the listing page that matches `file_link` (by the year-month in
    its address; the first on the page when they have none)."""
    hrefs = Selector(text=page.text).css("a::attr(href)").getall()
    pattern = re.compile(source.file_link)
    matches = [urljoin(page.url, href.strip()) for href in hrefs if pattern.search(href)]
    if not matches:
        raise LayoutError(
            f"{source.name}: expected a link matching {source.file_link!r} at {page.url}, "
            f"found none among {len(hrefs)} links"
        )
    ranked = sorted(enumerate(matches), key=lambda pair: (_url_date(pair[1]), -pair[0]))
    return ranked[-1][1]


def _url_date(url: str) -> tuple[int, int]:
    match = URL_DATE.search(url)
    if not match:
        return (0, 0)
    month = match.group(2)
    try:
        return (int(match.group(1)), int(month) if month.isdigit() else month_number(month))
    except PeriodError:
        return (int(match.group(1)), 0)
