"""The item pipelines: `StorePipeline` hands every fetch to the Recorder, then closes the
source's run when its last fetch is in; on a Scrapyd node, `RecordsPipeline` turns it into
a record for the item feed instead (see scrapers.records)."""

from typing import TYPE_CHECKING, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from scrapers.items import Fetched
from scrapers.recorder import Recorder
from scrapers.records import record

if TYPE_CHECKING:
    from scrapers.spider import SourcesSpider


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
    def process_item(self, item: Fetched) -> Fetched:
        spider = self.spider
        if item.run.status is not None:  # the run was cut short (interrupted) meanwhile
            if item.body_file is not None:
                item.body_file.discard()
            return item
        recorder = spider.recorder
        assert isinstance(recorder, Recorder)  # on a node, RecordsPipeline stores nothing
        try:
            status, reason = item.store(recorder)
        finally:
            if item.body_file is not None:
                item.body_file.discard()
        if status is not None:
            spider.finish(item.run, status, reason)
        return item


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
