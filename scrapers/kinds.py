"""Every source kind, imported so that each registers itself on `Source.kinds`."""

from scrapers.source import Source

SOURCE_KINDS = Source.kinds
