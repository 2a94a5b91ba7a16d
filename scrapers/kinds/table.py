"""The `table` kind: an HTML table whose cells become series."""

from dataclasses import dataclass, field

from core.checked import Selector
from scrapers.kinds.tabular import Tabular


@dataclass(frozen=True, kw_only=True, slots=True)
class TableSource(Tabular, kind="table"):
    """An HTML table, found by CSS selector or by the text of its caption or title."""

    extractor = "scrapers.extract.table"

    selector: Selector = field(
        default="",
        metadata={"help": "CSS selector of the <table>, e.g. 'table#stats' or 'main table'."},
    )
    caption: str = field(
        default="",
        metadata={
            "help": "Text the table's <caption>, or the title just before it, contains "
            "(e.g. 'Table 1.'); used when no selector is given. Neither: the first table."
        },
    )
