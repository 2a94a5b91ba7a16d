"""The `listing` extractor: news items on an HTML page of links (TRAC's /whatsnew/)."""

import re
from urllib.parse import urljoin

from parsel import Selector

from core import clock
from core.periods import PeriodError, parse_timestamp
from scrapers.extract import Extraction, LayoutError, Page
from scrapers.extract.facts import text_of
from scrapers.extract.feed import news_guid
from scrapers.kinds.listing import ListingSource
from storage import NewsItem

DATE_IN_TEXT = re.compile(
    r"\d{1,2} [A-Z][a-z]{2,8}\.? \d{4}|[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}/\d{1,2}/\d{4}"
)


def extract(source: ListingSource, page: Page) -> Extraction:
    items = Selector(text=page.text).css(source.items)
    if not items:
        raise LayoutError(
            f"{source.name}: expected items matching {source.items!r} at {page.url}, found none"
        )
    extraction = Extraction()
    for item in items:
        title = text_of(item.css(source.title_selector))
        href = item.css(source.link_selector).get()
        if not title:
            continue
        url = urljoin(page.url, href.strip()) if href else ""
        extraction.news.append(
            NewsItem(
                source=source.name,
                guid=news_guid(source.name, url, title),
                title=title,
                url=url,
                summary=text_of(item.css(source.summary_selector))
                if source.summary_selector
                else "",
                published_at=_date(source, text_of(item.css(source.date_selector)), page)
                if source.date_selector
                else None,
            )
        )
    if not extraction.news:
        raise LayoutError(
            f"{source.name}: {len(items)} items match {source.items!r} at {page.url}, but none "
            f"has a title at {source.title_selector!r}"
        )
    return extraction


def _date(source: ListingSource, text: str, page: Page) -> str | None:
    if not text:
        return None
    match = DATE_IN_TEXT.search(text)
    try:
        return clock.to_text(parse_timestamp(match.group(0) if match else text))
    except PeriodError:
        raise LayoutError(
            f"{source.name}: expected a date at {source.date_selector!r} on {page.url}, "
            f"found {text!r}"
        ) from None
