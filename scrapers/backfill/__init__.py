"""History before crossings started watching: a source's captures in a web archive, read
through the same config, extractor and recorder as a crawl, each stored as a snapshot dated
by its capture and marked with the archive it came from, its values stored as vintages
first seen then — oldest capture first, so a value that changed between two captures is a
revision. For a source that finds its file on a landing page (`link`), the landing page's
captures are read for the files they link to, and those files' captures are read.

Only the time before the source's first live fetch is read (live crawls know the rest).
A capture that cannot be read (a redirect, an error page, a file cut short, a layout that
differs from today's) is one line of the report; the others go on. Trouble with the
archive itself (down, rate-limiting, the budget spent) stops the run; a second run skips
every capture already stored and goes on where the first stopped."""

import os
from dataclasses import dataclass, field

from core.status import ARCHIVE_TRIGGER, RunStatus
from scrapers.backfill.cdx import Capture, CdxError
from scrapers.backfill.client import Answer, ArchiveClient, ArchiveTrouble, CaptureError
from scrapers.extract import LayoutError, Page, extract
from scrapers.extract.links import find_file
from scrapers.recorder import Fetch, Recorder, SourceRun
from scrapers.source import Source
from storage import Store


@dataclass
class Backfilled:
    """What a backfill did (or, dry, would do), for its report."""

    source: str
    run: SourceRun | None
    listed: int = 0  # captures found in the archive's index (identical ones collapsed)
    planned: list[Capture] = field(default_factory=list)  # to fetch (dry run) or fetched
    stored: int = 0  # captures whose values were stored
    skipped: int = 0  # stored by an earlier run
    lines: list[str] = field(default_factory=list)  # one per capture that could not be read
    stopped: str | None = None  # why the archive could not be asked further


def backfill(
    store: Store,
    name: str,
    source: Source,
    client: ArchiveClient,
    *,
    since: str | None = None,
    until: str | None = None,
    dry_run: bool = False,
) -> Backfilled:
    """Read `source`'s captures from `client`'s archive between two days (inclusive)."""
    recorder = Recorder(store)
    run = (
        None if dry_run else recorder.start(name, source, trigger=ARCHIVE_TRIGGER, pid=os.getpid())
    )
    done = _Backfill(store, recorder, run, name, source, client, dry_run)
    report = done.report
    try:
        done.read(since, until)
    except (ArchiveTrouble, CdxError) as error:
        report.stopped = str(error)
    if run is not None:
        run.requests, run.bytes = client.requests, client.bytes
        status = RunStatus.OK if report.stored else RunStatus.UNCHANGED
        if report.stopped:  # resumable: not a failure of the source
            status = RunStatus.INTERRUPTED
        said = [report.stopped] if report.stopped else []
        said += report.lines[:3]
        if len(report.lines) > 3:
            said.append(f"... (+{len(report.lines) - 3} more: run the backfill again to see all)")
        recorder.finish(run, status, "; ".join(said) or None)
    return report


class _Backfill:
    def __init__(self, store: Store, recorder: Recorder, run: SourceRun | None, name: str,
                 source: Source, client: ArchiveClient, dry_run: bool) -> None:  # fmt: skip
        self.store, self.recorder, self.run = store, recorder, run
        self.name, self.source, self.client, self.dry_run = name, source, client, dry_run
        self.report = Backfilled(name, run)
        self.done = store.snapshots.archived(name, client.archive)
        self.first_live = store.snapshots.first_live(name)

    def read(self, since: str | None, until: str | None) -> None:
        pages = self._before_live(self.client.captures(self.source.url, since, until))
        if not self.source.file_link:
            self._read_all(pages, {})
            return
        files: dict[str, str] = {}  # the file's URL -> the text of the link to it
        for capture in pages:
            if (body := self._landing(capture)) is None:
                continue
            try:
                link = find_file(self.source, Page(capture.url, body))
            except LayoutError as error:
                self._line(capture, str(error))
                continue
            files.setdefault(link.url, link.text)
        found = [self.client.captures(url, since, until) for url in files]
        self._read_all(self._before_live([c for listed in found for c in listed]), files)

    def _before_live(self, captures: list[Capture]) -> list[Capture]:
        self.report.listed += len(captures)
        if self.first_live is None:
            return captures
        return [capture for capture in captures if capture.at < self.first_live]

    def _landing(self, capture: Capture) -> bytes | None:
        """A landing page's body: as stored by an earlier run, or fetched and stored."""
        key = (capture.url, capture.timestamp)
        if key in self.done:
            self.report.skipped += 1
            sha256 = self.done[key]
            return self.store.snapshots.body(sha256) if sha256 else None
        self.report.planned.append(capture)
        if self.dry_run:
            return None
        answer = self._fetch(capture)
        if answer is None:
            return None
        self.recorder.snapshot(self._run, self._as_fetch(capture, answer))
        return answer.body

    def _read_all(self, captures: list[Capture], link_texts: dict[str, str]) -> None:
        for capture in sorted(captures, key=lambda capture: capture.timestamp):
            if (capture.url, capture.timestamp) in self.done:
                self.report.skipped += 1
                continue
            self.report.planned.append(capture)
            if not self.dry_run:
                self._read(capture, link_texts.get(capture.url, ""))

    def _read(self, capture: Capture, link_text: str) -> None:
        answer = self._fetch(capture)
        if answer is None:
            return
        fetch = self._as_fetch(capture, answer)
        page = Page(capture.url, answer.body, content_type=answer.content_type,
                    link_text=link_text)  # fmt: skip
        try:
            extraction = extract(self.source, page)
        except LayoutError as error:
            self.recorder.snapshot(self._run, fetch)
            self._line(capture, str(error))
            return
        except Exception as error:  # a damaged file: the parser's own words
            self.recorder.snapshot(self._run, fetch)
            self._line(capture, f"could not be read ({type(error).__name__}: {error})")
            return
        if problem := self.recorder.past_page(self._run, fetch, extraction):
            self._line(capture, problem)
            return
        self.report.stored += 1

    def _fetch(self, capture: Capture) -> Answer | None:
        """The capture's bytes as archived; None (with a line) when there are none to read.
        A capture archived as a redirect or an error is remembered (with no body), so a
        second run does not ask again."""
        if capture.status not in ("200", "-"):
            kind = "a redirect" if capture.status.startswith("3") else "an error page"
            self._remember(capture, int(capture.status) if capture.status.isdigit() else 0)
            self._line(capture, f"archived as HTTP {capture.status} ({kind}); skipped")
            return None
        try:
            answer = self.client.fetch(capture)
        except CaptureError as error:
            self._line(capture, str(error))
            return None
        if 300 <= answer.status < 400:
            self._remember(capture, answer.status)
            self._line(capture, f"is a redirect to {answer.location or '?'}; skipped")
            return None
        if answer.status != 200:
            self._line(capture, f"the archive answered HTTP {answer.status}; not stored")
            return None
        return answer

    def _remember(self, capture: Capture, status: int) -> None:
        fetch = Fetch(capture.url, status, fetched_at=capture.at, archive=self.client.archive,
                      archive_timestamp=capture.timestamp)  # fmt: skip
        self.recorder.snapshot(self._run, fetch)

    def _as_fetch(self, capture: Capture, answer: Answer) -> Fetch:
        return Fetch(
            capture.url,
            answer.status,
            answer.body,
            content_type=answer.content_type or None,
            fetched_at=capture.at,
            archive=self.client.archive,
            archive_timestamp=capture.timestamp,
        )

    def _line(self, capture: Capture, said: str) -> None:
        self.report.lines.append(
            f"capture of {capture.day} ({capture.timestamp}) {capture.url}: {said}"
        )

    @property
    def _run(self) -> SourceRun:
        assert self.run is not None, "a dry run stores nothing"
        return self.run
