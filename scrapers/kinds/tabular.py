"""The keys every tabular kind shares (an HTML `table`, a sheet of an `xlsx` workbook, a
table in a `pdf`): how header rows, labels, periods and values become series, and how a
change of layout is treated."""

import re
from dataclasses import dataclass, field
from typing import Literal

from core.checked import Regex
from scrapers.source import Source, as_pattern


@dataclass(frozen=True, kw_only=True, slots=True)
class Tabular(Source):
    """A grid of cells read into series (not a kind of its own: table, xlsx and pdf are)."""

    metric: str = field(
        metadata={
            "help": "Metric name template. Placeholders: {row} (row labels, with the group "
            "row above them), {group}, {column} (header text above the period, or the value "
            "column's header when periods are rows or as_of), and any label column's header "
            "as a slug, e.g. {case_type}. Example: 'trac.completions.{row}'."
        }
    )
    periods: Literal["columns", "rows", "as_of"] = field(
        default="columns",
        metadata={
            "help": "Where the periods are: column headers ('FY 2022'), a column ('rows'), or "
            "nowhere in the table ('as_of': every value is for the date the file is as of)."
        },
    )
    period_column: str = field(
        default="",
        metadata={
            "help": "With periods = 'rows': the header of the period column (default first)."
        },
    )
    as_of: Literal["", "file", "link", "text"] = field(
        default="",
        metadata={
            "help": "Where the date the figures are as of is read (with periods = 'as_of', "
            "or to check it): 'file' (the file name), 'link' (the text of the link to the "
            "file), 'text' (the page, the sheet's cells, or the PDF page's text)."
        },
    )
    as_of_regex: Regex = field(
        default="",
        metadata={
            "help": "Regex finding that date: named groups year, month, day (month may be a "
            "name; a 2-digit year is 20YY), else group 1 read as a date, e.g. "
            "'(?P<month>\\d\\d)(?P<day>\\d\\d)(?P<year>\\d{4})\\.xlsx$'."
        },
    )
    month_column: str = field(
        default="",
        metadata={
            "help": "With periods = 'rows': the header of a month column beside the year "
            "column ('01 October', 'OCT'); each row is then a month."
        },
    )
    fiscal: bool = field(
        default=False,
        metadata={
            "help": "With periods = 'rows': bare years are US fiscal years (2024 -> FY2024; "
            "with a month column, Oct-Dec belong to the year before)."
        },
    )
    header_rows: int = field(
        default=0,
        metadata={
            "help": "How many rows at the top are headers. 0: automatic - the leading rows of "
            "<th> cells (or <thead>), else a first row of bold or non-numeric cells."
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
    percent_metric: str = field(
        default="",
        metadata={
            "help": "Cells like '42 (4.66%)' give their count to `metric`; name a template "
            "here (same placeholders) to store the percent too, e.g. 'cbp.custody.{row}.share'."
        },
    )
    label: str = field(
        default="",
        metadata={"help": "Human label template for the catalogue (same placeholders)."},
    )
    rename: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "help": "A row label or column header as printed (footnote marks left out) -> "
            "the name it takes in metric names instead of its slug, e.g. { '%' = "
            "'in_custody' } (CBP's '%' row holds the count in custody)."
        },
    )
    units: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "help": "A name as it stands in metric names (after rename) -> the unit of the "
            "values of that row or column, instead of `unit`, e.g. { in_custody = 'people' }."
        },
    )
    stocks: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "Names (as in metric names, after rename) whose values are stocks "
            "counted on a day, e.g. ['pending']: dated to the last day their period covers "
            "(FY2024 -> 2024-09-30; '2025 (Third Quarter)' -> 2025-06-30), not the period."
        },
    )
    allow_new: bool = field(
        default=False,
        metadata={
            "help": "The header set (columns and row labels) of the first good crawl is "
            "remembered; a page whose headers differ is 'broken'. true: new rows or columns "
            "are stored, with a notice; a header that is gone is still 'broken'."
        },
    )

    def publishes(self) -> dict[str, str]:
        found = {as_pattern(self.metric): self.unit} if self.metric else {}
        if self.percent_metric:
            found[as_pattern(self.percent_metric)] = "percent"
        for name, unit in self.units.items():  # a name may stand in any placeholder
            for placeholder in dict.fromkeys(re.findall(r"\{[^}]*\}", self.metric)):
                found[as_pattern(self.metric.replace(placeholder, name, 1))] = unit
        return found

    def problems(self) -> list[str]:
        found = super(Tabular, self).problems()
        if self.periods == "as_of" and not (self.as_of and self.as_of_regex):
            found.append("periods = 'as_of' needs as_of ('file', 'link' or 'text') and as_of_regex")
        if self.header_rows < 0:
            found.append("header_rows must be 0 (automatic) or more")
        return found
