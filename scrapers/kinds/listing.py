"""The `listing` kind: news items read from an HTML page of links."""

from dataclasses import dataclass, field

from core.checked import Selector
from scrapers.source import Source


@dataclass(frozen=True, kw_only=True, slots=True)
class ListingSource(Source, kind="listing"):
    """News items from an HTML listing page, picked by CSS selectors."""

    extractor = "scrapers.extract.listing"

    items: Selector = field(
        metadata={"help": "CSS selector of each item, e.g. 'ul.whatsnew > li'."}
    )
    title_selector: Selector = field(
        default="a", metadata={"help": "CSS selector (inside an item) of the title text."}
    )
    link_selector: Selector = field(
        default="a::attr(href)",
        metadata={"help": "CSS selector (inside an item) of the link address."},
    )
    date_selector: Selector = field(
        default="",
        metadata={"help": "CSS selector (inside an item) of its date, e.g. '.date'."},
    )
    summary_selector: Selector = field(
        default="", metadata={"help": "CSS selector (inside an item) of its summary text."}
    )
