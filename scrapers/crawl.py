"""One crawl of many sources in this process: open a run row per source, re-check the
pages seen before with conditional GETs outside Scrapy (`scrapers.recheck`), run the one
spider over the sources left (none: Scrapy is not even imported), and close every run
with its outcome - including the runs cut off by SIGTERM or SIGINT (`interrupted`).
Called through `jobs.runners.child`, either in a child process of the daemon or inside
the one-shot `crossings crawl` command: the Twisted reactor cannot restart, so a process
crawls once.

On SIGTERM the crawl is cut at once rather than drained: Scrapy's graceful stop waits
for every download in flight (up to the timeout), and a daemon shutting down should not.
The signal is handled between two callbacks of the reactor, so no page is half-stored."""

import linecache
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from core.status import RunStatus
from scrapers.fetching import FetchSettings
from scrapers.recorder import Recorder, SourceRun
from scrapers.source import Source
from storage import Snapshot, SourceEntry, Store

WORKERS_GRACE = 1.0  # seconds a cut crawl gives its busy worker threads before leaving them


def _daemon_thread(*args: Any, **kwargs: Any) -> threading.Thread:
    return threading.Thread(*args, daemon=True, **kwargs)


def _stop_workers(pool: Any, *, wait: bool) -> None:
    """Stop the reactor's worker threads. A cut crawl does not wait for a busy one (a
    download stuck in a DNS lookup, or in a slow read of a streamed file until its
    timeout), so SIGTERM ends the crawl within the daemon's grace; such a worker is a
    daemon thread, abandoned when the process ends."""
    if wait:
        pool.stop()
        return
    stopper = threading.Thread(target=pool.stop, daemon=True)
    stopper.start()
    stopper.join(WORKERS_GRACE)


class _Stop:
    """The crawl's SIGTERM/SIGINT handler for both phases: it notes why, and tells the
    phase under way (`hook`), the re-check or Scrapy's reactor, to stop."""

    def __init__(self) -> None:
        self.why: str | None = None
        self.hook: Callable[[str], None] = lambda why: None

    def __call__(self, signum: int, _frame: object) -> None:
        self.why = self.why or signal.Signals(signum).name
        self.hook(self.why)


def crawl(
    database: Path,
    sources: Mapping[str, Source],
    fetch: FetchSettings,
    *,
    trigger: str,
    on_started: Callable[[list[SourceRun]], None] = lambda runs: None,
    on_finished: Callable[[SourceRun], None] = lambda run: None,
    time_limit: float | None = None,
) -> list[SourceRun]:
    """Crawl `sources` once; every source ends with a finished run row. Past `time_limit`
    seconds the sources still running are cut off as interrupted."""
    began = time.monotonic()
    stop = _Stop()  # from the start: a signal before the first request is not lost
    handlers = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        with Store(database) as store:
            return _crawl(
                Recorder(store),
                sources,
                fetch,
                stop,
                trigger=trigger,
                on_started=on_started,
                on_finished=on_finished,
                time_limit=time_limit,
                began=began,
            )
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def checkable(run: SourceRun, recorder: Recorder) -> Snapshot | None:
    """The newest stored fetch of `run`'s page, when the re-check takes its source (see
    `scrapers.recheck`): its validators make the GET conditional, its body tells an
    unchanged answer. Here, not there: a first pass never imports the re-check (and
    `requests` with it, ~2 MB and ~30 ms)."""
    source = run.source
    if not run.trust_cache or source.file_link or source.streamed:
        return None
    return recorder.latest(run.name, source.url, with_body=True)


def _crawl(
    recorder: Recorder,
    sources: Mapping[str, Source],
    fetch: FetchSettings,
    stop: _Stop,
    *,
    trigger: str,
    on_started: Callable[[list[SourceRun]], None],
    on_finished: Callable[[SourceRun], None],
    time_limit: float | None,
    began: float,
) -> list[SourceRun]:
    """`crawl` with its store open, from `began` (time.monotonic()). Pages seen before
    are re-checked first, the sources left go to Scrapy."""
    store = recorder.store
    with store.transaction():
        store.catalog.sync_sources(
            SourceEntry(name, source.kind, source.url, source.title)
            for name, source in sources.items()
        )
        runs = [
            recorder.start(name, source, trigger=trigger, pid=os.getpid())
            for name, source in sources.items()
        ]
    on_started(runs)

    def limit() -> tuple[float, str] | None:
        """Seconds left before the time limit, and how a run cut off by it is told."""
        if time_limit is None:
            return None
        left = max(time_limit - (time.monotonic() - began), 0.0)
        return left, f"it took longer than {time_limit:g} s"

    checks = [(run, latest) for run in runs if (latest := checkable(run, recorder))]
    left = {run.run_id for run in runs}.difference(run.run_id for run, _ in checks)
    why, robots_read = None, {}
    if checks:
        from scrapers.recheck import Recheck  # only when some page was seen before

        recheck = Recheck(recorder, fetch, on_finished)
        stop.hook = recheck.stop
        if stop.why:  # a signal came before the hook was set
            recheck.stop(stop.why)
        left.update(run.run_id for run in recheck.run(checks, limit()))
        why, robots_read = recheck.stopped, recheck.robots_read
    if why is None and left:
        why = _scrapy(
            [run for run in runs if run.run_id in left],
            recorder,
            fetch,
            stop,
            on_finished=on_finished,
            robots_read=robots_read,
            time_limit=limit(),
        )
    for run in runs:
        if run.status is None:
            if why is None:
                reason = f"{run.name}: the crawl ended without an outcome"
                recorder.finish(run, RunStatus.FAILED, reason)
            else:
                recorder.finish(run, RunStatus.INTERRUPTED, _interrupted(run, why))
            on_finished(run)
    return runs


def _interrupted(run: SourceRun, why: str) -> str:
    return (
        f"{run.name}: the crawl was stopped ({why}) before this source finished; it will "
        "be fetched again on its next run"
    )


def _scrapy(
    runs: list[SourceRun],
    recorder: Recorder,
    fetch: FetchSettings,
    stop: _Stop,
    *,
    on_finished: Callable[[SourceRun], None],
    robots_read: Mapping[str, bytes | None],
    time_limit: tuple[float, str] | None,
) -> str | None:
    """Crawl `runs` with the one spider; why it was stopped, if it was (its runs
    still open are then the caller's to close as interrupted)."""
    from scrapy.core.downloader.handlers import http11  # noqa: F401 - before the line below
    from scrapy.crawler import CrawlerProcess  # only when some source needs it

    from scrapers.spider import SourcesSpider

    # Scrapy's deprecated TLS aliases call inspect.stack() as they are imported, reading
    # every source file on the import's stack into linecache: ~1 MB kept for the whole
    # crawl, for tracebacks that would read the lines again if ever printed.
    linecache.clearcache()
    process = CrawlerProcess(fetch.scrapy_settings())
    crawler = process.create_crawler(SourcesSpider)
    process.crawl(
        crawler,
        runs=runs,
        recorder=recorder,
        fetch=fetch,
        on_finished=on_finished,
        robots_read=robots_read,
    )
    from twisted.internet import reactor as installed  # the one CrawlerProcess installed

    reactor: Any = installed  # Twisted's stubs type the module, not the reactor in it
    # a worker stuck in a call never holds the process's exit
    reactor.getThreadPool().threadFactory = _daemon_thread
    cut: list[str] = []

    def interrupt(why: str) -> None:
        if cut:
            return
        cut.append(why)
        if isinstance(crawler.spider, SourcesSpider):
            crawler.spider.stopping = True
        for run in runs:
            if run.status is None:
                recorder.finish(run, RunStatus.INTERRUPTED, _interrupted(run, why))
                on_finished(run)
        # crash, not stop: stop() fires Scrapy's graceful shutdown, which waits for
        # every download in flight
        reactor.crash()

    def hook(why: str) -> None:
        reactor.callFromThread(interrupt, why)

    def running() -> None:
        stop.hook = hook
        if stop.why:  # a signal came before the reactor ran
            interrupt(stop.why)

    reactor.callWhenRunning(running)
    if time_limit is not None:
        seconds, why = time_limit
        reactor.callLater(seconds, interrupt, why)
    process.start(install_signal_handlers=False)
    if (pool := getattr(reactor, "threadpool", None)) is not None:
        _stop_workers(pool, wait=not cut)  # after a crash they still wait for work
    if cut:
        return cut[0]
    close_reason = getattr(crawler.spider, "close_reason", "") if crawler.spider else ""
    return None if close_reason == "finished" else close_reason or "signal"
