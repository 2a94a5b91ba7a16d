"""Writing what a crawl found, for one source run: the snapshot of every fetch, then (only
when the page parsed as configured) its observations, news and metric descriptions, in
one transaction per page - one `observations.upsert` per page, never per row. A broken
page stores its snapshot (to diagnose and `reparse` later) and changes nothing else."""

import time
from dataclasses import dataclass, field
from typing import Protocol

from core.status import RunCounts, RunStatus
from scrapers.extract import Extraction, Layout
from scrapers.source import Source
from storage import Store, UpsertResult
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
    notice: str | None = None  # new rows or columns stored (allow_new): alerts carry it
    said: list[str] = field(default_factory=list)  # lines for the reason, good run or not
    sample: str | None = None  # what an unverified source found, for its first crawls
    seconds: float = 0.0

    def report(self) -> dict:
        """The outcome as the crawl child prints it (one JSON line per source)."""
        return {
            "source": self.name,
            "run_id": self.run_id,
            "status": self.status,
            "reason": self.reason,
            "notice": self.notice,
            "sample": self.sample,
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
    previous: Snapshot | None = None  # the newest fetch with a body, if already looked up
    archive: str | None = None  # a capture read from this web archive (then fetched_at is
    archive_timestamp: str | None = None  # the capture's time) and its timestamp there


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
        store.appending()  # a crawl's writes are appends: a small page cache is enough

    def latest(self, source: str, url: str, *, with_body: bool = False) -> Snapshot | None:
        return self.store.snapshots.latest(source, url, with_body=with_body)

    def body(self, sha256: str) -> bytes:
        return self.store.snapshots.body(sha256)

    def start(self, name: str, source: Source, *, trigger: str, pid: int | None) -> SourceRun:
        """Open the run row. The cache is trusted (conditional GET, no re-parse of an
        identical body) unless the last run was broken: a broken source is parsed again
        on every crawl, so it stays loud until it is fixed."""
        last = self.store.runs.recent(name, limit=1)
        trust = not last or last[0].status != RunStatus.BROKEN
        run_id = self.store.runs.start(name, trigger=trigger, pid=pid)
        return SourceRun(name=name, source=source, run_id=run_id, trust_cache=trust)

    def snapshot(self, run: SourceRun, fetch: Fetch, *, body_file=None) -> Snapshot:
        """Store a fetch that yields no values (a 304, an identical body, a listing page,
        a broken page), atomically (`Snapshots.record`)."""
        return self._record(run, fetch, body_file)

    def page(
        self, run: SourceRun, fetch: Fetch, extraction: Extraction, *, body_file=None
    ) -> str | None:
        """Store a fetch and what was extracted from it, atomically - unless its layout
        differs from the remembered one: then only the snapshot is stored, and the reason
        is returned (the run is `broken`)."""
        with self.store.transaction():
            snapshot = self._record(run, fetch, body_file)
            if problem := self.check_layout(run, extraction, snapshot.id):
                return problem
            self.values(run, extraction, snapshot.id)
        if run.source.unverified:
            run.sample = sample(extraction)
        return None

    def past_page(self, run: SourceRun, fetch: Fetch, extraction: Extraction) -> str | None:
        """Store a capture from a web archive and its values as vintages first seen at the
        capture's time (`fetch.fetched_at`), atomically - unless its layout differs from
        the one remembered from live crawls: then only the snapshot, and the reason is
        returned. An old layout is never remembered (today's pages set it)."""
        assert fetch.fetched_at is not None
        with self.store.transaction():
            snapshot = self._record(run, fetch, None)
            known = self.store.layouts.get(run.name)
            if known is not None and extraction.layout is not None:
                change = LayoutChange.between(Layout(known.columns, known.rows), extraction.layout)
                if change:
                    return f"its layout differs from today's: {change}; its values were not stored"
            self.values(run, extraction, snapshot.id, at=fetch.fetched_at)
        return None

    def check_layout(self, run: SourceRun, extraction: Extraction, snapshot_id: int) -> str | None:
        """Compare a table's headers and row labels with those remembered from its first
        good crawl (remembering them if none are); the reason when they differ."""
        layout = extraction.layout
        if layout is None:
            return None
        known = self.store.layouts.get(run.name)
        if known is None:
            self.store.layouts.remember(run.name, layout.columns, layout.rows, snapshot_id)
            return None
        change = LayoutChange.between(Layout(known.columns, known.rows), layout)
        if not change:
            return None
        allow_new = getattr(run.source, "allow_new", False)
        if change.gone or not allow_new:
            welcome = "" if allow_new else " (or set allow_new = true to welcome new ones)"
            return (
                f"{run.name}: the table changed since it was first read on "
                f"{known.remembered_at[:10]}: {change}; nothing stored was changed. If the new "
                f"layout is right, `crossings reparse {run.name} --accept-layout` takes it"
                f"{welcome}"
            )
        merged = Layout((*known.columns, *change.new_columns), (*known.rows, *change.new_rows))
        self.store.layouts.remember(run.name, merged.columns, merged.rows, snapshot_id)
        run.notice = "; ".join(
            filter(None, [run.notice, f"{run.name}: {change} (stored: allow_new = true)"])
        )
        return None

    def values(
        self,
        run: SourceRun,
        extraction: Extraction,
        snapshot_id: int,
        *,
        describe_all: bool = False,
        at: str | None = None,
    ) -> UpsertResult:
        """Upsert the page's values and news; describe the metrics that changed (or all,
        when a reparse may carry new labels). `at`: the values were seen then, in the
        past (a web archive's capture), among the vintages already stored."""
        if at is None:
            result = self.store.observations.upsert(
                extraction.observations, snapshot_id=snapshot_id
            )
        else:
            result = self.store.history.record_past(
                extraction.observations, snapshot_id=snapshot_id, at=at
            )
        run.values_new += len(result.new)
        run.values_revised += len(result.revised)
        run.values_unchanged += result.unchanged
        if extraction.news:
            added = self.store.news.add(extraction.news, snapshot_id=snapshot_id, at=at)
            run.news_new += len(added)
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
            previous=fetch.previous,
            archive=fetch.archive,
            archive_timestamp=fetch.archive_timestamp,
        )

    def finish(self, run: SourceRun, status: RunStatus | str, reason: str | None = None) -> None:
        reason = "; ".join(dict.fromkeys(filter(None, [reason, *run.said]))) or None
        run.status, run.reason = RunStatus(status), broken_hint(run.name, status, reason)
        run.seconds = time.monotonic() - run.started
        notice = run.notice if run.status is RunStatus.OK else None
        self.store.runs.finish(run.run_id, run.status, reason=run.reason, counts=run, notice=notice)


def broken_hint(name: str, status: RunStatus | str, reason: str | None) -> str | None:
    """A broken run's reason ends with the command that shows what the page has now and
    proposes the fix (the page was reached: network advice would mislead)."""
    if status != RunStatus.BROKEN or not reason or "inspect --source" in reason:
        return reason
    return (
        f"{reason}; `crossings inspect --source {name}` shows what the page has now and "
        f"the smallest change of the source's keys that reads it; after the edit, "
        f"`crossings reparse {name}` stores its values"
    )


def sample(extraction: Extraction, count: int = 3) -> str:
    """A few of the values or news found, to check by eye against the page."""
    said = [
        f"{o.metric} {o.period} = {o.value:,.10g}{'%' if o.unit == 'percent' else ''}"
        for o in extraction.observations[:count]
    ]
    said += [repr(item.title[:60]) for item in extraction.news[: count - len(said)]]
    total = len(extraction.observations) + len(extraction.news)
    return f"found {total}: {'; '.join(said)}{' ...' if total > len(said) else ''}"


@dataclass(frozen=True)
class LayoutChange:
    """What differs between a remembered layout and a page's, in words."""

    gone_columns: tuple[str, ...] = ()
    new_columns: tuple[str, ...] = ()
    gone_rows: tuple[str, ...] = ()
    new_rows: tuple[str, ...] = ()

    @classmethod
    def between(cls, old: Layout, new: Layout) -> "LayoutChange":
        def minus(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            lowered = {text.lower() for text in b}
            return tuple(text for text in a if text.lower() not in lowered)

        return cls(
            minus(old.columns, new.columns),
            minus(new.columns, old.columns),
            minus(old.rows, new.rows),
            minus(new.rows, old.rows),
        )

    @property
    def gone(self) -> bool:
        return bool(self.gone_columns or self.gone_rows)

    def __bool__(self) -> bool:
        return bool(self.gone or self.new_columns or self.new_rows)

    def __str__(self) -> str:
        said = [f"column {name!r} is gone" for name in self.gone_columns]
        said += [f"row {name!r} is gone" for name in self.gone_rows]
        said += [f"new column {name!r}" for name in self.new_columns]
        said += [f"new row {name!r}" for name in self.new_rows]
        return "; ".join(said[:10]) + (f"; ... (+{len(said) - 10} more)" if len(said) > 10 else "")
