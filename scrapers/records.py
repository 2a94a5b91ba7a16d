"""A crawl as records: how a crawl that cannot open the database (on a Scrapyd node)
hands back what it found, and how the daemon stores it.

On the node, `scrapers.pipelines.RecordsPipeline` turns each `Fetched` item into one
JSON-ready record (the fetch's metadata, its body zstd-compressed and base64-encoded, the
observations, news and metric descriptions extracted from it, with a table's layout and
notes, so that the daemon checks it against the remembered one), and on a source's last
fetch the run's outcome with its counts); Scrapyd's item feed carries them. In the daemon, `ingest`
replays a run's records through the very `Recorder` a local crawl stores with, in one
transaction per run, and only into a run that is still `running`: a feed ingested twice
changes nothing, and a run already closed (interrupted, retried elsewhere) stays closed.
A run whose outcome record is missing (the node died mid-source) is not ingested at all.
No Scrapy here: the daemon imports this, and stays small."""

import base64
import io
import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass

try:
    from compression import zstd  # Python 3.14+
except ImportError:  # pragma: no cover - depends on the Python version
    from backports import zstd

from core import clock
from core.errors import CrossingsError
from core.status import RunStatus
from scrapers.extract import Extraction, Layout
from scrapers.items import Fetched
from scrapers.recorder import Fetch, Recorder, SourceRun
from scrapers.source import Source
from storage import MetricEntry, NewsItem, Observation, Run, Store
from storage.snapshots import ZSTD_LEVEL, BodyFile, Snapshot

FORMAT = 2  # the records' layout (2: a table's layout and notes); a daemon refuses another
IN_MEMORY_BODY = 8 * 1024 * 1024  # larger bodies are unpacked to a file, not into memory
CHUNK = 1024 * 1024


# -- on the node -------------------------------------------------------------------------


@dataclass(frozen=True)
class Known:
    """The last fetch of a URL, as the daemon sent it with the job."""

    url: str
    etag: str | None
    last_modified: str | None
    sha256: str | None


class NodeMemory:
    """The spider's `Memory` on a node: what was fetched before comes with the job (no
    bodies, so listing pages are fetched whole); closing a run only sets its outcome."""

    keeps_bodies = False

    def __init__(self, known: Mapping[str, Iterable[Known]]) -> None:
        self._known = {(source, k.url): k for source, ks in known.items() for k in ks}

    def latest(self, source: str, url: str, *, with_body: bool = False) -> Snapshot | None:
        known = self._known.get((source, url))
        if known is None or (with_body and not known.sha256):
            return None
        return Snapshot(
            id=0, source=source, url=url, fetched_at="", http_status=200, sha256=known.sha256,
            etag=known.etag, last_modified=known.last_modified, content_type=None, size=0,
        )  # fmt: skip

    def body(self, sha256: str) -> bytes:
        raise KeyError(f"no stored body on a node (SHA-256 {sha256})")

    def finish(self, run: SourceRun, status: RunStatus | str, reason: str | None = None) -> None:
        run.status, run.reason = RunStatus(status), reason
        run.seconds = time.monotonic() - run.started


def record(item: Fetched) -> dict:
    """One `Fetched` item as a JSON-ready record."""
    run = item.run
    found: dict = {"format": FORMAT, "run_id": run.run_id, "source": run.name}
    if item.fetch is not None:
        fetch = item.fetch
        found["fetch"] = {
            "url": fetch.url,
            "http_status": fetch.http_status,
            "etag": fetch.etag,
            "last_modified": fetch.last_modified,
            "content_type": fetch.content_type,
            "fetched_at": fetch.fetched_at or clock.now(),
            "body": _pack(fetch.body, item.body_file),
        }
    if item.extraction is not None:
        extraction = item.extraction
        found["extraction"] = {
            "observations": [
                [o.metric, o.period, o.value, o.unit, list(o.flags)]
                for o in extraction.observations
            ],
            "news": [asdict(news) for news in extraction.news],
            "metrics": [asdict(entry) for entry in extraction.metrics.values()],
            "layout": asdict(extraction.layout) if extraction.layout else None,
            "notes": extraction.notes,
            "missing": extraction.missing,
        }
    if item.status is not None:
        found["outcome"] = {
            "status": item.status,
            "reason": item.reason,
            "said": run.said,  # e.g. a newer-looking file the link left out
            "notice": run.notice,
            "requests": run.requests,
            "bytes": run.bytes,
            "seconds": round(run.seconds, 3),
        }
    return found


def _pack(body: bytes | None, body_file: BodyFile | None) -> str | None:
    """A body as base64 text of its zstd frame (a streamed body is compressed already)."""
    if body_file is not None:
        body_file.finish()
        return base64.b64encode(body_file.path.read_bytes()).decode("ascii")
    if body is None:
        return None
    return base64.b64encode(zstd.compress(body, level=ZSTD_LEVEL)).decode("ascii")


# -- in the daemon -----------------------------------------------------------------------


class RecordError(CrossingsError):
    """A record cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Ingested:
    """What `ingest` did with a feed: the runs it stored, and those it left alone because
    they were closed already (ingested before, or given up on)."""

    stored: tuple[int, ...]
    already_closed: tuple[int, ...]


def ingest(store: Store, sources: Mapping[str, Source], records: Iterable[dict]) -> Ingested:
    """Store the complete runs among `records` (those with an outcome), one transaction
    per run. A run whose records cannot be stored is closed `failed` with the reason."""
    runs: dict[int, list[dict]] = {}
    for found in records:
        if found.get("format") != FORMAT:
            raise RecordError(
                f"a record of format {found.get('format')!r} (this crossings reads {FORMAT}): "
                "the node runs another version; run `crossings deploy`"
            )
        runs.setdefault(int(found["run_id"]), []).append(found)
    stored, closed = [], []
    recorder = Recorder(store)
    for run_id, its in runs.items():
        if "outcome" not in its[-1]:
            continue  # cut off mid-source: the caller closes the run
        try:
            with store.transaction():
                row = store.runs.get(run_id)
                if row is None or row.status != "running":
                    closed.append(run_id)
                    continue
                _replay(recorder, sources, row, its)
            stored.append(run_id)
        except Exception as error:  # a bad record is this run's outcome, not a crash
            name = its[0].get("source", "?")
            store.runs.finish(
                run_id, "failed", reason=f"{name}: could not store the node's results: {error}"
            )
            stored.append(run_id)
    return Ingested(tuple(stored), tuple(closed))


def _replay(recorder: Recorder, sources: Mapping[str, Source], row: Run, found: list[dict]) -> None:
    name = row.source
    run = SourceRun(name=name, source=sources[name], run_id=row.id, trust_cache=True)
    outcome = found[-1]["outcome"]
    run.requests, run.bytes = outcome["requests"], outcome["bytes"]
    run.said, run.notice = list(outcome.get("said", [])), outcome.get("notice")
    run.started = time.monotonic() - outcome["seconds"]
    status, reason, notes = outcome["status"], outcome["reason"], []
    for each in found:
        if (fetched := each.get("fetch")) is not None:
            fetch, body_file = _fetch(fetched)
            try:
                if (found_extraction := each.get("extraction")) is not None:
                    extraction = _extraction(found_extraction)
                    notes = extraction.notes
                    # the layout is checked here: only the daemon remembers it
                    if problem := recorder.page(run, fetch, extraction, body_file=body_file):
                        status, reason = RunStatus.BROKEN, problem
                        break
                else:
                    recorder.snapshot(run, fetch, body_file=body_file)
            finally:
                if body_file is not None:
                    body_file.discard()
    if status == RunStatus.OK and reason is None and notes:
        reason = "; ".join(notes)  # as the local StorePipeline says it
    recorder.finish(run, status, reason)


def _fetch(found: dict) -> tuple[Fetch, BodyFile | None]:
    body, body_file = None, None
    if found["body"] is not None:
        packed = base64.b64decode(found["body"])
        size = zstd.get_frame_info(packed).decompressed_size
        if size is not None and size <= IN_MEMORY_BODY:
            body = zstd.decompress(packed)
        else:
            body_file = BodyFile()
            with zstd.ZstdFile(io.BytesIO(packed)) as unpacked:
                while chunk := unpacked.read(CHUNK):
                    body_file.write(chunk)
            body_file.finish()
    fetch = Fetch(
        url=found["url"],
        http_status=found["http_status"],
        body=body,
        etag=found["etag"],
        last_modified=found["last_modified"],
        content_type=found["content_type"],
        fetched_at=found["fetched_at"],
    )
    return fetch, body_file


def _extraction(found: dict) -> Extraction:
    return Extraction(
        observations=[
            Observation(metric, period, value, unit, tuple(flags))
            for metric, period, value, unit, flags in found["observations"]
        ],
        news=[NewsItem(**news) for news in found["news"]],
        metrics={entry["name"]: MetricEntry(**entry) for entry in found["metrics"]},
        layout=Layout(tuple(layout["columns"]), tuple(layout["rows"]))
        if (layout := found["layout"])
        else None,
        notes=found["notes"],
        missing=found["missing"],
    )


def read_lines(lines: Iterable[bytes]) -> Iterator[dict]:
    """Records from a JSON-lines feed; a line cut off (the node died while writing) ends
    the feed: what follows it cannot be trusted."""
    for line in lines:
        if not line.strip():
            continue
        try:
            found = json.loads(line)
        except ValueError:
            return
        if isinstance(found, dict):
            yield found
