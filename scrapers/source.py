"""The base of every source kind: the keys all sources share. A kind subclasses it with
`kind="..."`, declares its own keys as fields, names the module that extracts its pages
(`extractor`) and says how its body is fetched (`streamed`); it is then known to the
config, the crawl and `reparse` by name, with no switch on kind names anywhere else.

Kept free of Scrapy imports and parsers, so that loading the config stays fast: the
extractor is imported on first use."""

import re
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from core.checked import HttpUrl
from core.registry import Registered


@dataclass(frozen=True, kw_only=True, slots=True)
class Source(Registered, family="source"):
    """Something to fetch on a schedule and turn into series or news."""

    kinds: ClassVar[dict[str, type["Source"]]]
    # The module whose `extract(source, page) -> Extraction` turns a fetched body into
    # observations or news (e.g. "scrapers.extract.table").
    extractor: ClassVar[str] = ""
    # True: the body is streamed to a file outside Scrapy (any size, read as a stream);
    # False: it is fetched by Scrapy and held in memory.
    streamed: ClassVar[bool] = False
    # True: a binary format read by native code (a workbook, a PDF), read in a process of
    # its own with memory and CPU caps (scrapers.extract.isolated).
    parsed_apart: ClassVar[bool] = False

    name: str = field(metadata={"toml": False})
    url: HttpUrl = field(metadata={"help": "Where to fetch: the page, file, feed or listing URL."})
    title: str = field(default="", metadata={"help": "A human name shown in alerts and pages."})
    schedule: str = field(
        default="17 6 * * *",
        metadata={
            "help": "When to crawl: a cron line (minute hour day month weekday) in the "
            "configured timezone, an interval such as '6h' or '30m', or 'auto' (release-"
            "aware polling: dense while a release is due, sparse otherwise)."
        },
    )
    releases: str = field(
        default="",
        metadata={
            "help": "When the site publishes, until history says better, e.g. 'monthly, "
            "days 10-20, hours 9-17' (local hours); 'auto' learns from history alone. "
            "Next to a cron line it adds dense polls while a release is due."
        },
    )
    budget: int = field(
        default=0,
        metadata={
            "help": "Polls a month release-aware polling may spend on this source; 0: an "
            "equal share of `polling_budget` among the planned sources of its site."
        },
    )
    enabled: bool = field(default=True, metadata={"help": "false keeps it configured but idle."})
    unverified: bool = field(
        default=False,
        metadata={
            "help": "true: its keys were never checked against a real copy of the page "
            "(`crossings check` says so; the first crawl shows what it found)."
        },
    )
    user_agent: str = field(
        default="",
        metadata={"help": "The User-Agent for this source only (default: [settings] one)."},
    )
    referer: str = field(
        default="",
        metadata={"help": "A Referer header to send (some USCIS endpoints want their page)."},
    )
    headers: dict[str, str] = field(
        default_factory=dict,
        metadata={"help": "More request headers, e.g. { Accept = 'text/csv' }."},
    )
    duplicates: Literal["error", "same", "sum", "mean", "min", "max"] = field(
        default="error",
        metadata={
            "help": "When a page gives one period twice: error (the run is broken, naming "
            "the rows), same (identical repeats only), or combine them: sum, mean, min, max."
        },
    )

    @property
    def file_link(self) -> str:
        """A regex on link addresses when `url` is a page listing files and the newest
        matching link is what to fetch; empty when `url` is the thing itself."""
        return ""

    def request_headers(self, agent: str) -> dict[str, str]:
        """What this source sends with each request, given the default User-Agent."""
        sent = {"User-Agent": self.user_agent or agent}
        if self.referer:
            sent["Referer"] = self.referer
        sent.update(self.headers)
        return sent

    def publishes(self) -> dict[str, str]:
        """The metrics this source stores, with their units: exact names, or patterns
        from its templates (`as_pattern`). A kind that stores series says so here; the
        config loader asks it (a derived metric or rule over a name no source publishes
        is reported). Kinds that store news publish none."""
        return {}

    def problems(self) -> list[str]:
        """Checks across keys; a kind extends this (a single key's type checks itself)."""
        return [
            f"header {name!r} must not contain a line break"
            for name, value in {**self.headers, "Referer": self.referer}.items()
            if any(char in f"{name}{value}" for char in "\r\n")
        ]


def as_pattern(template: str) -> str:
    """A metric name template as a glob: each `{placeholder}` becomes `*`."""
    return re.sub(r"\{[^}]*\}", "*", template)
