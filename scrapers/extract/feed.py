"""The `feed` extractor: RSS 2.0 and Atom, read defensively by feedparser (escaped HTML,
RFC 822 dates, guids that are not links)."""

import calendar
import hashlib
from datetime import UTC, datetime

import feedparser
from w3lib.html import remove_tags, replace_entities

from core import clock
from scrapers.extract import Extraction, LayoutError, Page
from scrapers.extract.text import squash
from scrapers.kinds.feed import FeedSource
from storage import NewsItem


def extract(source: FeedSource, page: Page) -> Extraction:
    parsed = feedparser.parse(page.body or b"")
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception") or "no feed elements"
        raise LayoutError(
            f"{source.name}: expected an RSS or Atom feed at {page.url}, found something else "
            f"({problem})"
        )
    extraction = Extraction()
    for entry in parsed.entries:
        title = plain(entry.get("title", ""))
        link = entry.get("link", "")
        if not title and not link:
            continue
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        extraction.news.append(
            NewsItem(
                source=source.name,
                guid=news_guid(source.name, entry.get("id") or link, title),
                title=title or link,
                url=link,
                summary=plain(entry.get("summary", "")),
                published_at=clock.to_text(datetime.fromtimestamp(calendar.timegm(published), UTC))
                if published
                else None,
            )
        )
    return extraction


def plain(html: str) -> str:
    """Text without tags or entities (feeds escape HTML in titles and summaries)."""
    return squash(replace_entities(remove_tags(html)))


def news_guid(source: str, guid: str, title: str) -> str:
    """A link is a global id; anything else ('104201 at https://...', '17') only means
    something within its source, so it is prefixed with the source name."""
    if guid.startswith(("http://", "https://")):
        return guid
    return f"{source}:{guid or hashlib.sha256(title.encode()).hexdigest()[:16]}"
