"""The spider a Scrapyd node runs (`scrapy crawl crossings`): the very spider of a local
crawl, given its runs and fetch settings by the job (`CROSSINGS_JOB`), remembering what
the job says was fetched before, and writing records to Scrapyd's item feed instead of
a database (`scrapers.pipelines.RecordsPipeline`)."""

from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from jobs.scrapyd.job import SETTING, JobSpec
from scrapers.recorder import SourceRun
from scrapers.records import NodeMemory
from scrapers.spider import SourcesSpider


class NodeSpider(SourcesSpider):
    name = "crossings"

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        scrapy_settings = _job(settings).fetch.scrapy_settings()
        scrapy_settings["ITEM_PIPELINES"] = {"scrapers.pipelines.RecordsPipeline": 100}
        # Scrapyd's item feed is written by Scrapy's feed exporter, which a local crawl
        # leaves out of its extensions (scrapers.fetching): a node needs it back.
        scrapy_settings["EXTENSIONS_BASE"] = {
            **scrapy_settings["EXTENSIONS_BASE"],
            "scrapy.extensions.feedexport.FeedExporter": 0,
        }
        settings.setdict(scrapy_settings, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        job = _job(crawler.settings)
        sources = job.sources()
        runs = [
            SourceRun(name=run.source, source=sources[run.source], run_id=run.run_id,
                      trust_cache=run.trust_cache)
            for run in job.runs
        ]  # fmt: skip
        memory = NodeMemory({run.source: run.known for run in job.runs})
        return super().from_crawler(
            crawler, *args, runs=runs, recorder=memory, fetch=job.fetch,
            on_finished=lambda run: None, **kwargs,
        )  # fmt: skip


def _job(settings: BaseSettings) -> JobSpec:
    text = settings.get(SETTING)
    if not text:
        raise ValueError(f"no {SETTING} setting: crossings' daemon schedules these jobs itself")
    return JobSpec.decode(text)
