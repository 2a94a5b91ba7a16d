"""The survey of one body: what it is, its candidates, and the proof of each proposal.

A `Candidate` is something crossings could read (a table, figure cards, a family of data
files, a sheet's table, a feed) with the keys of the block that would read it; a
`Proposal` is that block built as a real source and run through the kind's own extractor
over the same body, so the values it shows are the values a crawl would store."""

import dataclasses
import importlib
import typing
from dataclasses import dataclass, field
from typing import Any

import tomli_w

from core.errors import CrossingsError
from scrapers.extract import Extraction, LayoutError, Page, extract, parser_failure
from scrapers.kinds import SOURCE_KINDS
from scrapers.source import Source

# The modules that survey a kind of body, each with `candidates(page, prefix) -> Found`.
SURVEYORS = {
    "html": "scrapers.inspect.html",
    "csv": "scrapers.inspect.tabular",
    "xlsx": "scrapers.inspect.workbook",
    "pdf": "scrapers.inspect.pdf",
    "feed": "scrapers.inspect.feeds",
    "json": "scrapers.inspect.jsondoc",
}
WHAT = {"html": "an HTML page", "csv": "a CSV file", "xlsx": "an Excel workbook",
        "pdf": "a PDF", "feed": "a feed", "json": "a JSON document"}  # fmt: skip


class InspectError(CrossingsError):
    """A page that cannot be inspected: the message says what happened and what to try."""


@dataclass
class Candidate:
    """One thing on the page crossings could read, and the block that would read it."""

    what: str  # one line: "table 'Southwest Border in Custody', periods in columns"
    kind: str = ""  # the source kind proposed; "" when no kind reads it (listed only)
    keys: dict[str, Any] = field(default_factory=dict)  # the block's keys (not kind, url)
    details: list[str] = field(default_factory=list)  # lines shown under it
    follow: str = ""  # a data file to fetch and survey first (a family's newest file)
    follow_text: str = ""  # the text of the link to it (its as-of date may be there)
    page: Page | None = None  # the body its extractor reads (the page, or a linked file)
    url: str = ""  # the block's `url` (the page; a landing page for a linked file)
    number: str = ""  # its number in the listing ("3", or "3.2" inside a linked file)


@dataclass
class Found:
    """What one surveyor found: candidates, and what it saw that is not one."""

    candidates: list[Candidate] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # "3 tables, none with numbers"


@dataclass
class Survey:
    url: str
    body: str  # what the body is ("an HTML page of 38,640 bytes")
    candidates: list[Candidate]
    seen: list[str]

    def nothing(self) -> str:
        """The one line said when nothing on the page can be read."""
        return f"nothing crossings can read at {self.url}: it saw {'; '.join(self.seen)}"

    def pick(self, number: str) -> Candidate:
        for candidate in self.candidates:
            if candidate.number == number:
                return candidate
        known = ", ".join(c.number for c in self.candidates) or "none"
        raise InspectError(f"no candidate {number} at {self.url} (there are: {known})")


def sniff(page: Page) -> str:
    """What a body is, from its first bytes (not from its address or Content-Type)."""
    with page.open() as raw:
        head = raw.read(4096)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = stripped[:1024].lower()
    if stripped.startswith(b"%PDF"):
        return "pdf"
    if stripped.startswith(b"PK\x03\x04"):
        return "xlsx"
    if stripped[:1] in (b"{", b"["):
        return "json"
    if any(tag in stripped.lower() for tag in (b"<rss", b"<feed", b"<rdf:rdf")):
        return "feed"
    if lowered.startswith((b"<!doctype html", b"<html", b"<!--")) or b"<table" in lowered:
        return "html"
    if lowered.startswith(b"<"):
        return "html"
    if b"," in head.split(b"\n", 1)[0] and b"\x00" not in head:
        return "csv"
    return "unknown"


def survey(page: Page, prefix: str, *, said_type: str = "") -> Survey:
    """Every candidate in the body, numbered; `prefix` starts the proposed metric names.
    `said_type` (from the address or Content-Type): a data file that turns out to be an
    HTML page (an error or login page) is said so, not surveyed as a page."""
    found_type = sniff(page)
    size = _size(page)
    if found_type == "unknown":
        raise InspectError(
            f"the body at {page.url} ({size:,} bytes) is none of what crossings reads (HTML, "
            "CSV, JSON, RSS/Atom, XLSX, PDF); open it in a browser to see what the site sent"
        )
    if said_type and said_type != "html" and found_type == "html":  # an error or login page
        raise InspectError(
            f"the body at {page.url} is {WHAT[found_type]}, not {WHAT.get(said_type, said_type)} "
            "as its address or Content-Type says (an error or login page?); open it in a "
            "browser, or try --user-agent / --header if the site refuses robots"
        )
    module = importlib.import_module(SURVEYORS[found_type])
    found: Found = module.candidates(page, prefix)
    for number, candidate in enumerate(found.candidates, start=1):
        candidate.number = str(number)
        candidate.page = candidate.page or page
        candidate.url = candidate.url or page.url
    return Survey(page.url, f"{WHAT[found_type]} of {size:,} bytes", found.candidates, found.seen)


def _size(page: Page) -> int:
    if page.body is not None:
        return len(page.body)
    with page.open() as raw:
        return sum(len(chunk) for chunk in iter(lambda: raw.read(1 << 20), b""))


@dataclass
class Proposal:
    """A candidate's block, built as a source and run through its kind's extractor."""

    name: str
    candidate: Candidate
    source: Source | None
    extraction: Extraction | None
    problem: str = ""  # why the dry run read nothing (the extractor's own reason)
    deferred: bool = False  # not dry-run yet (a long listing): picking it runs it

    @classmethod
    def of(cls, candidate: Candidate, name: str) -> "Proposal":
        if not candidate.kind or candidate.follow:
            return cls(name, candidate, None, None)
        source = make_source(candidate.kind, name, candidate.url, candidate.keys)
        assert candidate.page is not None  # survey() gives every candidate its page
        try:
            extraction = extract(source, candidate.page)
        except LayoutError as error:
            return cls(name, candidate, source, None, str(error))
        except Exception as error:  # a parser bug: said, not raised (as a crawl records it)
            return cls(name, candidate, source, None, parser_failure(name, error))
        return cls(name, candidate, source, extraction)

    @classmethod
    def deferred_of(cls, candidate: Candidate, name: str) -> "Proposal":
        return cls(name, candidate, None, None, deferred=True)

    @property
    def reads(self) -> bool:
        found = self.extraction
        return found is not None and bool(found.observations or found.news)

    def block(self) -> str:
        """The `[sources.NAME]` TOML table, ready to paste."""
        return block(self.name, self.candidate.kind, self.candidate.url, self.candidate.keys)


def block(name: str, kind: str, url: str, keys: dict[str, Any]) -> str:
    """A source's TOML table: kind and url first, then its keys as given."""
    return tomli_w.dumps({"sources": {name: {"kind": kind, "url": url, **keys}}})


def make_source(kind: str, name: str, url: str, keys: dict[str, Any]) -> Source:
    """The source a block describes, built as the config loader would (nested tables
    such as [[sources.NAME.facts]] become their dataclasses); an unknown key is a bug."""
    cls = SOURCE_KINDS[kind]
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in keys.items():
        hint = hints[key]
        inner = typing.get_args(hint)
        if typing.get_origin(hint) is tuple and inner and dataclasses.is_dataclass(inner[0]):
            value = tuple(inner[0](**item) for item in value)  # type: ignore[operator]
        elif typing.get_origin(hint) is tuple:
            value = tuple(value)
        values[key] = value
    return cls(name=name, url=url, **values)
