"""Every source kind: one module each, imported here so that each registers itself on
`Source.kinds` (a new kind is one new file in this folder).

These modules only declare keys and name their extractor (no Scrapy, no HTML parser):
loading the config stays fast. What each kind does with a fetched page lives in the
module its `extractor` names, in `scrapers.extract`."""

from core.registry import import_kinds
from scrapers.source import Source

import_kinds(__name__, __path__)

SOURCE_KINDS = Source.kinds

__all__ = ["SOURCE_KINDS"]
