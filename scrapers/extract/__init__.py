"""Turning a fetched page into observations and news: one module per source kind (the
kind names it as `extractor`), whose `extract(source, page) -> Extraction` is pure (no
network, no database), so that a crawl and `reparse` over stored snapshots run the very same code.

A page that no longer looks as configured raises `LayoutError` with a reason that names
what was expected and what was found; the caller then stores nothing but the snapshot.
So does a page that gives one period twice (extract.duplicates), for every kind."""

import importlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from core.errors import CrossingsError
from core.status import RunStatus
from scrapers.extract.bounds import Limits, Unreadable
from scrapers.source import Source
from storage import MetricEntry, NewsItem, Observation


class LayoutError(CrossingsError):
    """The page does not look as the source's config expects (the run is `broken`)."""


@dataclass(frozen=True)
class Page:
    """A fetched body: in memory (`body`), or a stream for files too large for it."""

    url: str
    body: bytes | None = None
    opener: Callable[[], BinaryIO] | None = None
    content_type: str = ""
    link_text: str = ""  # the text of the link the file was found by, on its landing page
    limits: Limits = field(default_factory=Limits)  # what reading it may cost (extract.bounds)

    def open(self) -> BinaryIO:
        if self.opener is not None:
            return self.opener()
        return io.BytesIO(self.body or b"")

    @property
    def text(self) -> str:
        body = self.body if self.body is not None else self.open().read()
        return body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Layout:
    """What a table looks like, apart from its periods: its headers and its row labels.
    Remembered after the first good crawl, so that a renamed header is noticed."""

    columns: tuple[str, ...]
    rows: tuple[str, ...]


@dataclass
class Extraction:
    observations: list[Observation] = field(default_factory=list)
    news: list[NewsItem] = field(default_factory=list)
    metrics: dict[str, MetricEntry] = field(default_factory=dict)
    layout: Layout | None = None  # tabular kinds: compared with the remembered one
    notes: list[str] = field(default_factory=list)  # said with a good run (e.g. all missing)
    missing: int = 0  # value cells that were empty or '-'
    # Where each observation was read ("row 'FY 2024' (line 7)"), to name it in a reason.
    origins: list[str] = field(default_factory=list)

    def add(
        self, observation: Observation, label: str = "", source: str = "", origin: str = ""
    ) -> None:
        self.observations.append(observation)
        self.origins.append(origin)
        if observation.metric not in self.metrics:
            self.metrics[observation.metric] = MetricEntry(
                observation.metric, label=label, unit=observation.unit, source=source
            )


def parser_failure(source: str, error: Exception) -> str:
    """The reason for a run whose parser crashed (a bug in crossings, not the page)."""
    return (
        f"{source}: the parser failed ({type(error).__name__}: {error}); this is a bug in "
        f"crossings - the snapshot is stored, so `crossings reparse {source}` redoes it once fixed"
    )


@dataclass(frozen=True)
class Unread:
    """Why a page gave nothing to store: its layout changed (the run is `broken`) or the
    parser crashed (`failed`), with the run's reason."""

    status: RunStatus
    reason: str


def read_page(source: Source, page: Page) -> Extraction | Unread:
    """`extract`, its failures turned into the run's outcome (never raised: the crawl or
    reparse goes on). One place for "a layout error is broken, any other error failed"."""
    try:
        return extract(source, page)
    except LayoutError as error:
        return Unread(RunStatus.BROKEN, str(error))
    except Unreadable as error:  # past a limit, or its reading process crashed
        return Unread(RunStatus.FAILED, str(error))
    except Exception as error:  # a parser bug: the run says so
        return Unread(RunStatus.FAILED, parser_failure(source.name, error))


def extract(source: Source, page: Page) -> Extraction:
    """Run the extractor the source's kind names: in a process of its own for a kind
    `parsed_apart` (a binary format: extract.isolated), else here. Raises LayoutError
    (the run is `broken`) or Unreadable (`failed`) with the reason."""
    if source.parsed_apart:
        from scrapers.extract.isolated import extract_apart

        return extract_apart(source, page)
    return extract_here(source, page)


def extract_here(source: Source, page: Page) -> Extraction:
    """Run the extractor the source's kind names (imported on first use: parsers are
    heavy), then hold it to one value per metric and period (extract.duplicates)."""
    from scrapers.extract.duplicates import one_per_period

    extraction = importlib.import_module(source.extractor).extract(source, page)
    return one_per_period(source.name, extraction, source.duplicates)
