"""The `xlsx` kind: a table on a sheet of an Excel workbook (ICE detention statistics,
the DHS statistics office's workbooks), possibly found on a landing page by link."""

import re
from dataclasses import dataclass, field

from core.checked import Regex
from scrapers.kinds.tabular import Tabular


@dataclass(frozen=True, kw_only=True, slots=True)
class XlsxSource(Tabular, kind="xlsx"):
    """A table on a sheet of an Excel workbook (.xlsx), at `url` or linked from it.

    With `link`, `url` is a landing page and the newest workbook whose address matches
    is read."""

    extractor = "scrapers.extract.xlsx"
    streamed = True
    parsed_apart = True

    link: Regex = field(
        default="",
        metadata={
            "help": "Regex on link addresses: `url` is then a landing page and the newest "
            "matching link is fetched (e.g. 'detentionStats.*\\.xlsx$')."
        },
    )
    sheet: str = field(
        default="",
        metadata={
            "help": "The sheet's name or a pattern ('Detention FY*', any case; stray spaces "
            "around names are ignored); the first matching sheet in the workbook. Default: "
            "the first sheet."
        },
    )
    table_title: str = field(
        default="",
        metadata={
            "help": "Text the table's title cell contains (any case), e.g. 'ICE Currently "
            "Detained by Criminality and Arresting Agency'. The table starts below it and "
            "ends at the next blank row and blank column. Default: the sheet's first table."
        },
    )
    as_of_sheet: str = field(
        default="",
        metadata={
            "help": "With as_of = 'text': the sheet (name or pattern) whose text holds the "
            "as-of date, e.g. 'Footnotes' (ICE: 'a snapshot as of 02/07/2026'). Default: the "
            "table's own sheet."
        },
    )
    as_of_cell: str = field(
        default="",
        metadata={
            "help": "With as_of = 'text': the one cell (e.g. 'B3') of that sheet whose text "
            "holds the as-of date, instead of the whole sheet."
        },
    )
    percent_columns: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "Headers of columns whose cells are percents stored as fractions (0.466 "
            "shown as 46.6%): stored as 46.6 with unit 'percent'."
        },
    )

    def problems(self) -> list[str]:
        found = super(XlsxSource, self).problems()
        if (self.as_of_sheet or self.as_of_cell) and self.as_of != "text":
            found.append("as_of_sheet and as_of_cell need as_of = 'text'")
        if self.as_of_cell and not re.fullmatch(r"[A-Za-z]{1,3}[1-9]\d{0,6}", self.as_of_cell):
            found.append(f"as_of_cell {self.as_of_cell!r} is not a cell address like 'B3'")
        return found

    @property
    def file_link(self) -> str:
        return self.link
