"""What the spider (or the re-check) hands to be stored: one fetch and what it yielded."""

import logging
from dataclasses import dataclass

from core.status import RunStatus
from scrapers.extract import Extraction
from scrapers.recorder import Fetch, Recorder, SourceRun
from storage.snapshots import BodyFile

log = logging.getLogger(__name__)


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

    def store(self, recorder: Recorder) -> tuple[str | None, str | None]:
        """Store the fetch and its values; the run's outcome after it (a layout problem
        makes it broken, a failed write failed: data, not a crash). The one way the
        spider's pipeline and the re-check store what they fetched."""
        status, reason, fetch = self.status, self.reason, self.fetch
        try:
            if fetch is not None and self.extraction is not None:
                extraction = self.extraction
                problem = recorder.page(self.run, fetch, extraction, body_file=self.body_file)
                if problem:
                    status, reason = RunStatus.BROKEN, problem
                elif status == RunStatus.OK and extraction.notes:
                    reason = "; ".join(extraction.notes)
            elif fetch is not None:
                recorder.snapshot(self.run, fetch, body_file=self.body_file)
        except Exception as error:  # a failed write is the run's outcome, not a crash
            log.exception("storing %s failed", self.run.name)
            where = fetch.url if fetch is not None else "its fetch"
            status, reason = RunStatus.FAILED, f"{self.run.name}: could not store {where}: {error}"
        return status, reason
