"""One crawl of many sources in this process: open a run row per source, run the one
spider over all of them, and close every run with its outcome - including the runs cut
off by SIGTERM or SIGINT (`interrupted`). Called through `jobs.runners.child`, either in a
child process of the daemon or inside the one-shot `crossings crawl` command: the Twisted
reactor cannot restart, so a process crawls once.

On SIGTERM the crawl is cut at once rather than drained: Scrapy's graceful stop waits
for every download in flight (up to the timeout), and a daemon shutting down should not.
The signal is handled between two callbacks of the reactor, so no page is half-stored."""

import os
import signal
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess

from core.status import RunStatus
from scrapers.fetching import FetchSettings
from scrapers.recorder import Recorder, SourceRun
from scrapers.source import Source
from scrapers.spider import SourcesSpider
from storage import SourceEntry, Store

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
    with Store(database) as store:
        recorder = Recorder(store)
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
        process = CrawlerProcess(fetch.scrapy_settings())
        crawler = process.create_crawler(SourcesSpider)
        process.crawl(crawler, runs=runs, recorder=recorder, fetch=fetch, on_finished=on_finished)
        from twisted.internet import reactor as installed  # the one CrawlerProcess installed

        reactor: Any = installed  # Twisted's stubs type the module, not the reactor in it
        # a worker stuck in a call never holds the process's exit
        reactor.getThreadPool().threadFactory = _daemon_thread
        cut: list[str] = []

        def interrupt(why: str) -> None:
            cut.append(why)
            if isinstance(crawler.spider, SourcesSpider):
                crawler.spider.stopping = True
            for run in runs:
                if run.status is None:
                    recorder.finish(
                        run,
                        RunStatus.INTERRUPTED,
                        f"{run.name}: the crawl was stopped ({why}) before this source "
                        "finished; it will be fetched again on its next run",
                    )
                    on_finished(run)
            # crash, not stop: stop() fires Scrapy's graceful shutdown, which waits for
            # every download in flight
            reactor.crash()

        def on_signal(signum: int, _frame: object) -> None:
            reactor.callFromThread(interrupt, signal.Signals(signum).name)

        def install_handlers() -> None:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, on_signal)

        reactor.callWhenRunning(install_handlers)
        if time_limit is not None:
            reactor.callLater(time_limit, interrupt, f"it took longer than {time_limit:g} s")
        process.start(install_signal_handlers=False)
        if (pool := getattr(reactor, "threadpool", None)) is not None:
            _stop_workers(pool, wait=not cut)  # after a crash they still wait for work
        close_reason = getattr(crawler.spider, "close_reason", "") if crawler.spider else ""
        for run in runs:
            if run.status is None:
                if close_reason == "finished":
                    recorder.finish(
                        run, RunStatus.FAILED, f"{run.name}: the crawl ended without an outcome"
                    )
                else:
                    recorder.finish(
                        run,
                        RunStatus.INTERRUPTED,
                        f"{run.name}: the crawl was stopped ({close_reason or 'signal'}) before "
                        "this source finished; it will be fetched again on its next run",
                    )
                on_finished(run)
        return runs
