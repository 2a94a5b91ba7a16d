"""The item pipelines: `StorePipeline` hands every fetch to the Recorder, then closes the
source's run when its last fetch is in; on a Scrapyd node, `RecordsPipeline` turns it into
a record for the item feed instead (see scrapers.records)."""

import logging
from typing import TYPE_CHECKING, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from core.status import RunStatus
from scrapers.items import Fetched
from scrapers.recorder import Recorder
from scrapers.records import record

if TYPE_CHECKING:
    from scrapers.spider import SourcesSpider

log = logging.getLogger(__name__)


class Pipeline:
    """What both pipelines share: built from the crawler, fed by the one spider."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def spider(self) -> "SourcesSpider":
        from scrapers.spider import SourcesSpider  # the spider imports this module's settings

        spider = self.crawler.spider
        assert isinstance(spider, SourcesSpider)  # the only spider crossings runs
        return spider


class StorePipeline(Pipeline):
    """Stores a fetch and, on the source's last one, closes its run in the same
    transaction (one commit a page, not two); the run is reported finished
    (`on_finished`) only once that commit is done."""

    def process_item(self, item: Fetched) -> Fetched:
        spider, run = self.spider, item.run
        if run.status is not None:  # the run was cut short (interrupted) meanwhile
            if item.body_file is not None:
                item.body_file.discard()
            return item
        recorder = spider.recorder
        assert isinstance(recorder, Recorder)  # on a node, RecordsPipeline stores nothing
        try:
            with recorder.store.transaction():
                status, reason = self._store(recorder, item)
                if status is not None:
                    recorder.finish(run, status, reason)
        except Exception as error:  # a failed write is the run's outcome, not a crash
            log.exception("storing %s failed", run.name)
            run.status = None  # its closing, if written, was rolled back with the fetch
            where = item.fetch.url if item.fetch is not None else "its fetch"
            spider.finish(run, "failed", f"{run.name}: could not store {where}: {error}")
            return item
        finally:
            if item.body_file is not None:
                item.body_file.discard()
        if run.status is not None:  # closed above, and committed: now it may be reported
            spider.on_finished(run)
        return item

    @staticmethod
    def _store(recorder: Recorder, item: Fetched) -> tuple[str | None, str | None]:
        """Store the item's fetch and values; the run's outcome (None: more fetches to come)."""
        fetch, status, reason = item.fetch, item.status, item.reason
        if fetch is None:
            return status, reason
        if item.extraction is None:
            recorder.snapshot(item.run, fetch, body_file=item.body_file)
            return status, reason
        extraction = item.extraction
        if problem := recorder.page(item.run, fetch, extraction, body_file=item.body_file):
            return RunStatus.BROKEN, problem
        if status == RunStatus.OK and extraction.notes:
            return status, "; ".join(extraction.notes)
        return status, reason


class RecordsPipeline(Pipeline):
    """The node's one item pipeline: every `Fetched` item becomes a record for the feed."""

    def process_item(self, item: Fetched) -> dict:
        spider = self.spider
        try:
            if item.run.status is not None:  # the run was cut short meanwhile
                raise DropItem(f"{item.run.name}: the run was already closed")
            if item.status is not None:
                spider.finish(item.run, item.status, item.reason)
            return record(item)
        finally:
            if item.body_file is not None:
                item.body_file.discard()
