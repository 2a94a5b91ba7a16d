"""Re-extracting a source from the snapshots already stored, with no network: after a
parser fix or a config change, the newest stored body of the source goes through the
same extractor and the same recorder as a crawl, in a run with trigger 'reparse'."""

from dataclasses import dataclass, field

from core.status import RunStatus
from scrapers.extract import LayoutError, Page, Unread, read_page
from scrapers.extract.bounds import Limits
from scrapers.extract.links import find_file
from scrapers.recorder import Recorder, SourceRun
from scrapers.source import Source
from storage import Change, Store
from storage.snapshots import Snapshot


@dataclass
class Reparsed:
    run: SourceRun
    snapshot: Snapshot | None
    changes: list[Change] = field(default_factory=list)


def reparse(store: Store, name: str, source: Source, limits: Limits | None = None) -> Reparsed:
    """Re-extract the newest stored body of `source`; the run records the outcome."""
    recorder = Recorder(store)
    run = recorder.start(name, source, trigger="reparse", pid=None)
    snapshot, link_text = newest_body(store, name, source)
    if snapshot is None or snapshot.sha256 is None:
        recorder.finish(
            run,
            RunStatus.FAILED,
            f"{name}: nothing stored to reparse yet; run `crossings crawl {name}`",
        )
        return Reparsed(run, None)
    sha256 = snapshot.sha256
    if source.streamed:
        opener = lambda: store.snapshots.open_body(sha256)  # noqa: E731
        page = Page(snapshot.url, opener=opener, link_text=link_text, limits=limits or Limits())
    else:
        body = store.snapshots.body(sha256)
        page = Page(snapshot.url, body, content_type=snapshot.content_type or "",
                    limits=limits or Limits())  # fmt: skip
    extraction = read_page(source, page)
    if isinstance(extraction, Unread):
        recorder.finish(run, extraction.status, extraction.reason)
        return Reparsed(run, snapshot)
    with store.transaction():
        if problem := recorder.check_layout(run, extraction, snapshot.id):
            result = None
        else:
            result = recorder.values(run, extraction, snapshot.id, describe_all=True)
    if result is None:
        recorder.finish(run, RunStatus.BROKEN, problem)
        return Reparsed(run, snapshot)
    recorder.finish(run, RunStatus.OK, "; ".join(extraction.notes) or None)
    return Reparsed(run, snapshot, [*result.new, *result.revised])


def newest_body(store: Store, name: str, source: Source) -> tuple[Snapshot | None, str]:
    """The newest stored body, and the text of the link to it: for a file found via a
    landing page, the newest file the page currently points at (else the newest of any
    name)."""
    if not source.file_link:
        return store.snapshots.latest(name, source.url, with_body=True), ""
    files = [snap for snap in store.snapshots.for_source(name) if snap.url != source.url]
    listing = store.snapshots.latest(name, source.url, with_body=True)
    link = None
    if listing is not None and listing.sha256 is not None:
        try:
            link = find_file(source, Page(listing.url, store.snapshots.body(listing.sha256)))
        except LayoutError:
            link = None
        matching = [snap for snap in files if link and snap.url == link.url]
        files = matching or files
    if not files:
        return None, ""
    return files[-1], link.text if link and files[-1].url == link.url else ""
