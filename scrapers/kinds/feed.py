"""The `feed` kind: an RSS or Atom feed whose items become news."""

from dataclasses import dataclass

from scrapers.source import Source


@dataclass(frozen=True, kw_only=True, slots=True)
class FeedSource(Source, kind="feed"):
    """An RSS 2.0 or Atom feed; each item becomes a news item (stored once per guid)."""

    extractor = "scrapers.extract.feed"
