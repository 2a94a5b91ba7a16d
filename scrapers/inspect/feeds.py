"""An RSS or Atom feed, proposed as a `feed` source; its first items are shown by the dry
run (the same feedparser reading a crawl does)."""

import feedparser

from scrapers.extract import Page
from scrapers.inspect.survey import Candidate, Found

SHOWN = 3


def candidates(page: Page, prefix: str) -> Found:
    parsed = feedparser.parse(page.body or b"")
    found = Found()
    if not parsed.get("version") and not parsed.entries:
        found.seen.append(f"XML that is not a feed ({parsed.get('bozo_exception', '')})")
        return found
    title = parsed.feed.get("title", "")
    details = [f"item: {entry.get('title', '')!r}" for entry in parsed.entries[:SHOWN]]
    found.candidates.append(Candidate(
        f"{parsed.get('version') or 'feed'} {title!r} with {len(parsed.entries)} items",
        "feed", {}, details,
    ))  # fmt: skip
    return found
