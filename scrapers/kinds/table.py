"""The `table` kind: an HTML table whose cells become series."""

from dataclasses import dataclass, field
from typing import Literal

from scrapers.source import Source
from storage.checked import Regex, Selector


@dataclass(frozen=True, kw_only=True)
class TableSource(Source, kind="table"):
    """An HTML table, found by CSS selector or by the text of its caption or title."""

    extractor = "scrapers.extract.table"

    metric: str = field(
        metadata={
            "help": "Metric name template. Placeholders: {row} (row labels, with the group "
            "row above them), {group}, {column} (header text above the period, or the value "
            "column's header when periods are rows), and any label column's header as a "
            "slug, e.g. {case_type}. Example: 'trac.completions.{row}'."
        }
    )
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
    periods: Literal["columns", "rows"] = field(
        default="columns",
        metadata={"help": "Where the periods are: column headers ('FY 2022') or a column."},
    )
    period_column: str = field(
        default="",
        metadata={
            "help": "With periods = 'rows': the header of the period column (default first)."
        },
    )
    columns: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "Headers that must be present (layout check), e.g. ['Class', 'Case "
            "Type']. With periods = 'rows', also the value columns to take (default all)."
        },
    )
    rows: Regex = field(
        default="",
        metadata={"help": "Regex: keep only rows whose label matches (default all rows)."},
    )
    unit: str = field(
        default="count", metadata={"help": "Unit of the values; cells with % are 'percent'."}
    )
    label: str = field(
        default="",
        metadata={"help": "Human label template for the catalogue (same placeholders)."},
    )
