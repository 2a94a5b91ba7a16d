"""The one item pipeline: hands every fetch to the Recorder, then closes the source's run
when its last fetch is in."""

import logging

from scrapy.crawler import Crawler

from scrapers.items import Fetched

log = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "StorePipeline":
        return cls(crawler)

    def process_item(self, item: Fetched) -> Fetched:
        spider = self.crawler.spider
        if item.run.status is not None:  # the run was cut short (interrupted) meanwhile
            if item.body_file is not None:
                item.body_file.discard()
            return item
        recorder, status, reason = spider.recorder, item.status, item.reason
        try:
            if item.fetch is not None:
                if item.extraction is not None:
                    extraction = item.extraction
                    problem = recorder.page(
                        item.run, item.fetch, extraction, body_file=item.body_file
                    )
                    if problem:
                        status, reason = "broken", problem
                    elif status == "ok" and extraction.notes:
                        reason = "; ".join(extraction.notes)
                else:
                    recorder.snapshot(item.run, item.fetch, body_file=item.body_file)
        except Exception as error:  # a failed write is the run's outcome, not a crash
            log.exception("storing %s failed", item.run.name)
            status, reason = "failed", f"{item.run.name}: could not store {item.fetch.url}: {error}"
        finally:
            if item.body_file is not None:
                item.body_file.discard()
        if status is not None:
            spider.finish(item.run, status, reason)
        return item
