"""The `facts` kind: single figures picked from a page, such as TRAC's Quick Facts."""

from dataclasses import dataclass, field
from typing import Literal

from core.checked import Regex, SelectorOrXPath
from scrapers.source import Source

DATA_CURRENT = r"[Dd]ata current as of\s+([A-Z][a-z]+\.? \d{1,2}, \d{4})"


@dataclass(frozen=True, kw_only=True)
class Fact:
    """One figure on the page."""

    metric: str = field(metadata={"help": "Metric name, e.g. 'trac.court.backlog'."})
    selector: SelectorOrXPath = field(
        metadata={
            "help": "CSS selector (or XPath, starting with '/' or '(') of the element "
            "holding the figure, e.g. '#card-eoir_backlog .text-5xl'."
        }
    )
    regex: Regex = field(
        default="",
        metadata={"help": "Regex applied to the element's text; group 1 is the number."},
    )
    card: SelectorOrXPath = field(
        default="",
        metadata={
            "help": "CSS selector (or XPath) of the card around the figure, where its date is "
            "searched first (default: the whole page)."
        },
    )
    unit: str = field(default="count", metadata={"help": "Unit of the value."})
    label: str = field(default="", metadata={"help": "Human label for the catalogue."})


@dataclass(frozen=True, kw_only=True, slots=True)
class FactsSource(Source, kind="facts"):
    """Figures picked from a page by selector and regex, dated by text on the page."""

    extractor = "scrapers.extract.facts"

    facts: tuple[Fact, ...] = field(
        metadata={"help": "The figures: [[sources.NAME.facts]] tables (metric, selector...)."}
    )
    period_regex: Regex = field(
        default=DATA_CURRENT,
        metadata={"help": "Regex whose group 1 is the date the figures describe."},
    )
    period: Literal["day", "month"] = field(
        default="day",
        metadata={"help": "Store figures per day ('2025-05-31') or per month ('2025-05')."},
    )

    def publishes(self) -> dict[str, str]:
        return {fact.metric: fact.unit for fact in self.facts}

    def problems(self) -> list[str]:
        found = super(FactsSource, self).problems()
        if not self.facts:
            found.append("facts is empty: list at least one [[sources.NAME.facts]] table")
        return found
