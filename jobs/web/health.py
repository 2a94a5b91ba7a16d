"""/healthz and /metrics: is the daemon alive and able to write, and what has it done.

/healthz answers 200 when the scheduler runs (where there is one: `crossings run` puts
its status in the app) and the database takes writes, else 503; the body says which part
failed and shows the newest run of every source. /metrics is Prometheus text, read from
the database at each scrape by a custom collector (nothing is counted in memory, so the
figures survive restarts and include runs made by other processes)."""

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from core import clock
from jobs.web import CONFIG
from storage import StorageError, Store
from storage.stats import probe_writable

# `crossings run` sets this to a function returning {"running": bool, "jobs": int, ...}.
SCHEDULER_STATUS = web.AppKey[Callable[[], dict]]("scheduler_status")
DURATION_BOUNDS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def register(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)


async def healthz(request: web.Request) -> web.Response:
    database = request.app[CONFIG].database
    status = request.app.get(SCHEDULER_STATUS)
    # Only the daemon writes; `crossings serve` (no scheduler here) only needs to read.
    report = await asyncio.to_thread(_health_report, database, status is not None)
    healthy = report["database"]["problem"] is None
    if status is not None:
        report["scheduler"] = status()
        healthy = healthy and report["scheduler"]["running"]
    report = {"status": "ok" if healthy else "unhealthy", **report}
    return web.json_response(report, status=200 if healthy else 503)


def _health_report(database: Path, needs_writes: bool) -> dict:
    problem = probe_writable(database) if needs_writes else None
    sources = {}
    if problem is None:
        try:
            with Store(database, read_only=True) as store:
                for source, run in sorted(store.runs.last_per_source().items()):
                    sources[source] = {
                        key: getattr(run, key)
                        for key in ("status", "started_at", "finished_at", "reason")
                    }
        except StorageError as error:
            problem = str(error)
    check = "writable" if needs_writes else "readable"
    return {
        "database": {"path": str(database), check: problem is None, "problem": problem},
        "sources": sources,
    }


async def metrics(request: web.Request) -> web.Response:
    status = request.app.get(SCHEDULER_STATUS)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(request.app[CONFIG].database, status))
    body = await asyncio.to_thread(generate_latest, registry)
    return web.Response(body=body, headers={"Content-Type": PROMETHEUS_TEXT})


class StoreCollector:
    """Reads the figures from the database at each scrape."""

    def __init__(self, database: Path, scheduler_status: Callable[[], dict] | None) -> None:
        self.database = database
        self.scheduler_status = scheduler_status

    def collect(self) -> Iterator[Metric]:
        if self.scheduler_status is not None:
            up = GaugeMetricFamily(
                "crossings_scheduler_running", "1 while the daemon's scheduler runs."
            )
            up.add_metric([], 1.0 if self.scheduler_status()["running"] else 0.0)
            yield up
        try:
            store = Store(self.database, read_only=True)
        except StorageError:
            return  # no database yet: nothing stored to report
        with store:
            yield from _stored(store)


def _stored(store: Store) -> Iterator[Metric]:
    stats = store.stats
    runs = GaugeMetricFamily("crossings_runs", "Runs stored, by outcome.", labels=["status"])
    for status, count in sorted(stats.runs_by_status().items()):
        runs.add_metric([status], count)
    yield runs

    durations = stats.durations(DURATION_BOUNDS)
    histogram = HistogramMetricFamily(
        "crossings_crawl_duration_seconds", "How long finished runs took."
    )
    histogram.add_metric(
        [],
        [(repr(bound), count) for bound, count in durations.buckets] + [("+Inf", durations.count)],
        durations.total_seconds,
    )
    yield histogram

    counts = stats.observation_counts()
    current = GaugeMetricFamily(
        "crossings_observations", "Values stored: one per metric and period."
    )
    current.add_metric([], counts["current"])
    yield current
    vintages = GaugeMetricFamily(
        "crossings_observation_vintages", "Every version of every value, revisions included."
    )
    vintages.add_metric([], counts["vintages"])
    yield vintages

    firing = GaugeMetricFamily("crossings_alerts_firing", "Alerts currently firing.")
    firing.add_metric([], stats.alerts_firing())
    yield firing

    outbox = GaugeMetricFamily(
        "crossings_outbox_messages",
        "Alert and digest messages, by delivery state.",
        labels=["status"],
    )
    for status, count in sorted(store.outbox.counts().items()):
        outbox.add_metric([status], count)
    yield outbox

    success = GaugeMetricFamily(
        "crossings_source_last_success_timestamp_seconds",
        "When each source last finished a good run (Unix time).",
        labels=["source"],
    )
    for source, at in sorted(stats.last_success().items()):
        success.add_metric([source], clock.parse(at).timestamp())
    yield success

    newest = store.releases.newest_periods()
    arrived = GaugeMetricFamily(
        "crossings_source_last_new_period_timestamp_seconds",
        "When each source's newest period first appeared (Unix time).",
        labels=["source"],
    )
    since = GaugeMetricFamily(
        "crossings_source_seconds_since_new_period",
        "Seconds since each source's newest period first appeared: how long it has been "
        "quiet (compare with its release rhythm in `crossings sources`).",
        labels=["source"],
    )
    now = time.time()
    for source, at in sorted(newest.items()):
        moment = clock.parse(at).timestamp()
        arrived.add_metric([source], moment)
        since.add_metric([source], max(0.0, now - moment))
    yield arrived
    yield since
