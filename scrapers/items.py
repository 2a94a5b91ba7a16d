"""What the spider hands to the store pipeline: one fetch and what it yielded."""

from dataclasses import dataclass

from scrapers.extract import Extraction
from scrapers.recorder import Fetch, SourceRun
from storage.snapshots import BodyFile


@dataclass
class Fetched:
    """A fetch to store (`fetch`), the values found in it (`extraction`, None when it is
    not parsed: 304, identical body, broken layout), and, on the source's last fetch, the
    run's outcome (`status`, `reason`)."""

    run: SourceRun
    fetch: Fetch | None = None
    extraction: Extraction | None = None
    body_file: BodyFile | None = None
    status: str | None = None
    reason: str | None = None
