"""The `pdf` kind: a table or single figures in a PDF (EOIR's one-page adjudication
statistics), possibly found on a landing page by link."""

from dataclasses import dataclass, field

from core.checked import Regex
from scrapers.kinds.tabular import Tabular


@dataclass(frozen=True, kw_only=True)
class Figure:
    """One figure found in the page's text by a regex."""

    metric: str = field(metadata={"help": "Metric name, e.g. 'eoir.pending'."})
    regex: Regex = field(
        metadata={
            "help": "Regex over the page text; group 1 is the number, e.g. "
            r"'Pending [Cc]ases:?\s*([\d,]+)'."
        }
    )
    unit: str = field(default="count", metadata={"help": "Unit of the value."})
    label: str = field(default="", metadata={"help": "Human label for the catalogue."})


@dataclass(frozen=True, kw_only=True, slots=True)
class PdfSource(Tabular, kind="pdf"):
    """A table found by page and title, or figures by regex, in a PDF at or linked from `url`.

    With `link`, `url` is a landing page and the newest PDF whose address matches is read."""

    extractor = "scrapers.extract.pdf"
    streamed = True
    parsed_apart = True

    metric: str = field(
        default="",
        metadata={
            "help": "For a table: the metric name template (as for `table`). Not needed "
            "when `figures` are given."
        },
    )
    link: Regex = field(
        default="",
        metadata={
            "help": "Regex on link addresses: `url` is then a landing page and the newest "
            "matching link is fetched."
        },
    )
    page: int = field(
        default=0, metadata={"help": "The page to read (1 = first); 0: every page in turn."}
    )
    table_title: str = field(
        default="",
        metadata={
            "help": "Text just above the table on the page (any case), e.g. 'Pending Cases "
            "by Fiscal Year'. Default: the page's first table."
        },
    )
    figures: tuple[Figure, ...] = field(
        default=(),
        metadata={
            "help": "Instead of a table: [[sources.NAME.figures]] (metric, regex) read from "
            "the page text, dated by as_of / as_of_regex."
        },
    )

    def publishes(self) -> dict[str, str]:
        return {**super(PdfSource, self).publishes(), **{f.metric: f.unit for f in self.figures}}

    def problems(self) -> list[str]:
        found = super(PdfSource, self).problems()
        if not self.figures and not self.metric:
            found.append("give either metric (a table) or [[sources.NAME.figures]] (regexes)")
        if self.figures and not (self.as_of and self.as_of_regex):
            found.append("figures need as_of and as_of_regex: the date they are as of")
        if self.page < 0:
            found.append("page must be 1 or more (0: every page)")
        return found

    @property
    def file_link(self) -> str:
        return self.link
