"""The `csv` kind: a CSV file, possibly renamed every release, filtered and summed."""

import string
from dataclasses import dataclass, field
from typing import Literal

from core.checked import Regex
from scrapers.source import Source, as_pattern


@dataclass(frozen=True, kw_only=True, slots=True)
class CsvSource(Source, kind="csv"):
    """A CSV file (streamed, any size) at `url`, or the newest file linked from the page at
    `url` whose link matches `link`; rows filtered, then summed per metric and period."""

    extractor = "scrapers.extract.csvfile"
    streamed = True

    link: Regex = field(
        default="",
        metadata={
            "help": "Regex on link addresses: `url` is then a page listing files and the "
            "newest matching link is fetched (e.g. 'sbo-encounters-fy\\d+-fy\\d+.*\\.csv')."
        },
    )
    metric: str = field(
        metadata={
            "help": "Metric name template; {column_slug} placeholders group rows by that "
            "column, e.g. 'cbp.swb.{demographic}.encounters'."
        }
    )
    value: str = field(metadata={"help": "Header of the column to sum, e.g. 'Encounter Count'."})
    year: str = field(
        default="",
        metadata={
            "help": "Header of the year column, e.g. 'Fiscal Year' ('2025 (FYTD)' ok); "
            "or give `date`."
        },
    )
    month: str = field(
        default="",
        metadata={"help": "Header of the month column (e.g. 'Month (abbv)'); unset: yearly."},
    )
    date: str = field(
        default="",
        metadata={
            "help": "Header of a date column, one row per day (a daily series): 2025-01-05 "
            "or Jan 5, 2025; instead of `year`."
        },
    )
    date_format: Literal["", "MM/DD/YYYY", "DD/MM/YYYY"] = field(
        default="",
        metadata={
            "help": "How the `date` column writes slashed dates: 'MM/DD/YYYY' (US) or "
            "'DD/MM/YYYY'; unset, a slashed date is refused as ambiguous."
        },
    )
    fiscal: bool = field(
        default=True,
        metadata={"help": "The year column is a US fiscal year (OCT-DEC are the prior year)."},
    )
    filters: dict[str, str] = field(
        default_factory=dict,
        metadata={"help": "Header -> exact value rows must have, e.g. { Component = '...' }."},
    )
    unit: str = field(default="count", metadata={"help": "Unit of the values."})
    label: str = field(default="", metadata={"help": "Human label template for the catalogue."})

    def problems(self) -> list[str]:
        found = super(CsvSource, self).problems()
        if bool(self.year) == bool(self.date):
            found.append("give `year` (with `month` for a monthly series) or `date`, not both")
        if self.month and not self.year:
            found.append("`month` needs `year` beside it")
        if self.date_format and not self.date:
            found.append("`date_format` says how the `date` column writes dates: give `date`")
        return found

    def publishes(self) -> dict[str, str]:
        return {as_pattern(self.metric): self.unit}

    @property
    def group_columns(self) -> tuple[str, ...]:
        """The column slugs the metric template names (rows are summed per combination)."""
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.metric) if name)

    @property
    def file_link(self) -> str:
        return self.link
