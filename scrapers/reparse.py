"""Re-extracting a source from the snapshots already stored, with no network: after a
parser fix or a config change, the newest stored body of the source goes through the
same extractor and the same recorder as a crawl, in a run with trigger 'reparse'."""

from dataclasses import dataclass, field

from scrapers.extract import LayoutError, Page, extract, parser_failure
from scrapers.extract.links import find_file
from scrapers.recorder import Recorder, SourceRun
from scrapers.source import Source
from storage import Change, RunStatus, Store
from storage.snapshots import Snapshot


@dataclass
class Reparsed:
    run: SourceRun
    snapshot: Snapshot | None
    changes: list[Change] = field(default_factory=list)


def reparse(store: Store, name: str, source: Source) -> Reparsed:
    """Re-extract the newest stored body of `source`; the run records the outcome."""
    recorder = Recorder(store)
    run = recorder.start(name, source, trigger="reparse", pid=None)
    snapshot = _newest_body(store, name, source)
    if snapshot is None or snapshot.sha256 is None:
        recorder.finish(
            run,
            RunStatus.FAILED,
            f"{name}: nothing stored to reparse yet; run `crossings crawl {name}`",
        )
        return Reparsed(run, None)
    sha256 = snapshot.sha256
    if source.streamed:
        page = Page(snapshot.url, opener=lambda: store.snapshots.open_body(sha256))
    else:
        body = store.snapshots.body(sha256)
        page = Page(snapshot.url, body, content_type=snapshot.content_type or "")
    try:
        extraction = extract(source, page)
    except LayoutError as error:
        recorder.finish(run, RunStatus.BROKEN, str(error))
        return Reparsed(run, snapshot)
    except Exception as error:  # a parser bug: recorded, not raised
        recorder.finish(run, RunStatus.FAILED, parser_failure(name, error))
        return Reparsed(run, snapshot)
    with store.transaction():
        result = recorder.values(run, extraction, snapshot.id, describe_all=True)
    recorder.finish(run, RunStatus.OK)
    return Reparsed(run, snapshot, [*result.new, *result.revised])


def _newest_body(store: Store, name: str, source: Source) -> Snapshot | None:
    """The newest stored body: for a file found via a listing page, the newest file the
    listing currently points at (else the newest file of any name)."""
    if not source.file_link:
        return store.snapshots.latest(name, source.url, with_body=True)
    files = [snap for snap in store.snapshots.for_source(name) if snap.url != source.url]
    listing = store.snapshots.latest(name, source.url, with_body=True)
    if listing is not None and listing.sha256 is not None:
        try:
            wanted = find_file(source, Page(listing.url, store.snapshots.body(listing.sha256)))
        except LayoutError:
            wanted = None
        matching = [snap for snap in files if snap.url == wanted]
        files = matching or files
    return files[-1] if files else None
