"""Writing what a crawl found, for one source run: the snapshot of every fetch, then (only
when the page parsed as configured) its observations, news and metric descriptions, in
one transaction per page - one `observations.upsert` per page, never per row. A broken
page stores its snapshot (to diagnose and `reparse` later) and changes nothing else."""

import time
from dataclasses import dataclass, field
from typing import Protocol

from scrapers.extract import Extraction
from scrapers.source import Source
from storage import RunCounts, RunStatus, Store, UpsertResult
from storage.snapshots import BodyFile, Snapshot


@dataclass(kw_only=True)
class SourceRun(RunCounts):
    """One source's run while the crawl goes on: its row, counters and outcome."""

    name: str
    source: Source
    run_id: int
    trust_cache: bool
    started: float = field(default_factory=time.monotonic)
    status: RunStatus | None = None
    reason: str | None = None
    seconds: float = 0.0

    def report(self) -> dict:
        """The outcome as the crawl child prints it (one JSON line per source)."""
        return {
            "source": self.name,
            "run_id": self.run_id,
            "status": self.status,
            "reason": self.reason,
            "values_new": self.values_new,
            "values_revised": self.values_revised,
            "values_unchanged": self.values_unchanged,
            "news_new": self.news_new,
            "requests": self.requests,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Fetch:
    """One response as it is stored."""

    url: str
    http_status: int
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    fetched_at: str | None = None  # when it was fetched elsewhere (a Scrapyd node); else now


class Memory(Protocol):
    """What the spider asks of whoever records the crawl: the last fetch of a URL (for a
    conditional GET), a stored body, and closing a run. `Recorder` answers from the
    database; on a Scrapyd node, `scrapers.records.NodeMemory` from what the job brought."""

    keeps_bodies: bool  # whether `body` can give back what a 304 points at

    def latest(self, source: str, url: str, *, with_body: bool = False) -> Snapshot | None: ...

    def body(self, sha256: str) -> bytes: ...

    def finish(
        self, run: SourceRun, status: RunStatus | str, reason: str | None = None
    ) -> None: ...


class Recorder:
    keeps_bodies = True

    def __init__(self, store: Store) -> None:
        self.store = store

    def latest(self, source: str, url: str, *, with_body: bool = False) -> Snapshot | None:
        return self.store.snapshots.latest(source, url, with_body=with_body)

    def body(self, sha256: str) -> bytes:
        return self.store.snapshots.body(sha256)

    def start(self, name: str, source: Source, *, trigger: str, pid: int | None) -> SourceRun:
        """Open the run row. The cache is trusted (conditional GET, no re-parse of an
        identical body) unless the last run was broken: a broken source is parsed again
        on every crawl, so it stays loud until it is fixed."""
        last = self.store.runs.recent(name, limit=1)
        trust = not last or last[0]["status"] != RunStatus.BROKEN
        run_id = self.store.runs.start(name, trigger=trigger, pid=pid)
        return SourceRun(name=name, source=source, run_id=run_id, trust_cache=trust)

    def snapshot(self, run: SourceRun, fetch: Fetch, *, body_file=None) -> Snapshot:
        """Store a fetch that yields no values (a 304, an identical body, a listing page,
        a broken page)."""
        with self.store.transaction():
            return self._record(run, fetch, body_file)

    def page(
        self, run: SourceRun, fetch: Fetch, extraction: Extraction, *, body_file=None
    ) -> Snapshot:
        """Store a fetch and what was extracted from it, atomically."""
        with self.store.transaction():
            snapshot = self._record(run, fetch, body_file)
            self.values(run, extraction, snapshot.id)
        return snapshot

    def values(
        self, run: SourceRun, extraction: Extraction, snapshot_id: int, *, describe_all=False
    ) -> UpsertResult:
        """Upsert the page's values and news; describe the metrics that changed (or all,
        when a reparse may carry new labels)."""
        result = self.store.observations.upsert(extraction.observations, snapshot_id=snapshot_id)
        run.values_new += len(result.new)
        run.values_revised += len(result.revised)
        run.values_unchanged += result.unchanged
        if extraction.news:
            run.news_new += len(self.store.news.add(extraction.news, snapshot_id=snapshot_id))
        changed = {change.metric for change in (*result.new, *result.revised)}
        if changed or describe_all:
            self.store.catalog.describe_metrics(
                entry
                for name, entry in extraction.metrics.items()
                if describe_all or name in changed
            )
        return result

    def _record(self, run: SourceRun, fetch: Fetch, body_file: BodyFile | None) -> Snapshot:
        return self.store.snapshots.record(
            source=run.name,
            url=fetch.url,
            http_status=fetch.http_status,
            body=body_file if body_file is not None else fetch.body,
            run_id=run.run_id,
            etag=fetch.etag,
            last_modified=fetch.last_modified,
            content_type=fetch.content_type,
            fetched_at=fetch.fetched_at,
        )

    def finish(self, run: SourceRun, status: RunStatus | str, reason: str | None = None) -> None:
        run.status, run.reason = RunStatus(status), reason
        run.seconds = time.monotonic() - run.started
        self.store.runs.finish(run.run_id, run.status, reason=reason, counts=run)
