"""Every source kind, imported so that each registers itself on `Source.kinds`.

These modules only declare keys (no Scrapy, no HTML parser): loading the config stays
fast. What each kind does with a fetched page lives in `scrapers.extract`."""

from scrapers.kinds import csvfile, facts, feed, jsondoc, listing, pdf, table, xlsx
from scrapers.source import Source

SOURCE_KINDS = Source.kinds

__all__ = ["SOURCE_KINDS", "csvfile", "facts", "feed", "jsondoc", "listing", "pdf", "table", "xlsx"]
