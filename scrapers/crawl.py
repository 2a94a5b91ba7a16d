"""One crawl of many sources in this process: open a run row per source, run the one
spider over all of them, and close every run with its outcome - including the runs cut
off by SIGTERM (`interrupted`). Called by the crawl child process (`jobs.crawl_child`):
the Twisted reactor cannot restart, so a process crawls once."""

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from scrapy.crawler import CrawlerProcess

from scrapers.fetching import FetchSettings
from scrapers.recorder import Recorder, SourceRun
from scrapers.source import Source
from scrapers.spider import SourcesSpider
from storage import SourceEntry, Store


def crawl(
    database: Path,
    sources: Mapping[str, Source],
    fetch: FetchSettings,
    *,
    trigger: str,
    on_started: Callable[[list[SourceRun]], None] = lambda runs: None,
    on_finished: Callable[[SourceRun], None] = lambda run: None,
) -> list[SourceRun]:
    """Crawl `sources` once; every source ends with a finished run row."""
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
        process.start()
        close_reason = getattr(crawler.spider, "close_reason", "") if crawler.spider else ""
        for run in runs:
            if run.status is None:
                if close_reason == "finished":
                    recorder.finish(
                        run, "failed", f"{run.name}: the crawl ended without an outcome"
                    )
                else:
                    recorder.finish(
                        run,
                        "interrupted",
                        f"{run.name}: the crawl was stopped ({close_reason or 'signal'}) before "
                        "this source finished; it will be fetched again on its next run",
                    )
                on_finished(run)
        return runs
