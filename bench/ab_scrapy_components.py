"""A/B of Scrapy's component lists: one process runs a Scrapy crawl of nothing with
crossings' settings (every component loaded, the engine started and closed) and prints
its CPU seconds, peak RSS and module count; `old` restores Scrapy's default lists as
crossings used them before issue 14. Run them alternately in the same minute:

    for i in 1 2 3; do for v in old new; do
        .venv/bin/python bench/ab_scrapy_components.py $v; done; done
"""

import resource
import sys

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
import scrapy
from scrapy.crawler import CrawlerProcess

from scrapers.fetching import FetchSettings

settings = FetchSettings(download_delay=0).scrapy_settings()
if sys.argv[1] == "old":  # the settings before this change
    from scrapy.settings import default_settings as d

    for key in ("DOWNLOADER_MIDDLEWARES_BASE", "SPIDER_MIDDLEWARES_BASE", "EXTENSIONS_BASE"):
        settings[key] = getattr(d, key)
    settings["DOWNLOADER_MIDDLEWARES"] = {
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "scrapers.robots.RobotsTxtMiddleware": 100,
        "scrapers.middlewares.CountingMiddleware": 950,
        "scrapers.middlewares.RetryAfterMiddleware": 550,
    }
    settings["EXTENSIONS"] = {"scrapy.extensions.logstats.LogStats": None}


class Nothing(scrapy.Spider):
    name = "nothing"

    async def start(self):
        return
        yield


settings["ITEM_PIPELINES"] = {}
p = CrawlerProcess(settings, install_root_handler=False)
p.crawl(Nothing)
p.start()
u = resource.getrusage(resource.RUSAGE_SELF)
print(
    sys.argv[1],
    f"cpu {u.ru_utime + u.ru_stime:.2f} s, maxrss {u.ru_maxrss / 1024:.0f} MB,",
    f"modules {len(sys.modules)}, aiohttp {'aiohttp' in sys.modules}",
)
