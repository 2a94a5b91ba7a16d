"""robots.txt, read once per site in a crawl and obeyed by every request, Scrapy's and
streamed downloads alike: the streamed path asks the same middleware (`robots_txt`,
`allows`), so both decide from one parser, fetched once through Scrapy.

Scrapy 2.19's RobotsTxtMiddleware hands the parsed robots.txt to the requests waiting for
it through one Twisted Deferred that each awaits with `maybe_deferred_to_future`; the
first waiter's callback returns None into the chain, so every other waiter gets None
and is let through as if the site had no robots.txt (shown by test_crawl's two private
sources). This subclass reads the parser from the middleware's table once the wait is
over, which is set before the waiters wake. A site whose robots.txt the crawl's re-check
already read (`scrapers.recheck`, before Scrapy started) is parsed from that body, not
fetched again: once per site and crawl."""

import logging
from collections.abc import Mapping

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxt
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred


class RobotsTxtMiddleware(ScrapyRobotsTxt):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        scrapy_log = logging.getLogger(ScrapyRobotsTxt.__module__)
        if not any(isinstance(found, _UnreadRobotsTxt) for found in scrapy_log.filters):
            scrapy_log.addFilter(_UnreadRobotsTxt())

    async def robot_parser(self, request: Request) -> RobotParser | None:
        site = urlparse_cached(request).netloc
        read: Mapping[str, bytes | None] = getattr(self.crawler.spider, "robots_read", {})
        if site not in self._parsers and site in read:
            body = read[site]  # None: it could not be read, and allows everything
            self._parsers[site] = (
                None if body is None else build_from_crawler(self._parserimpl, self.crawler, body)
            )
        parser = await super().robot_parser(request)
        known = self._parsers.get(site)
        return parser if known is None or isinstance(known, Deferred) else known

    async def allows(self, url: str, headers: Mapping[str, str]) -> bool:
        """Whether robots.txt lets a request with these headers (its User-Agent) fetch
        `url`: decided as for a Scrapy request, from the same parser."""
        request = Request(url, headers=dict(headers))
        try:
            self.process_request_2(await self.robot_parser(request), request)
        except IgnoreRequest:
            return False
        return True


def robots_txt(crawler: Crawler) -> RobotsTxtMiddleware | None:
    """The crawl's robots.txt middleware; None when robots.txt is not obeyed (Scrapy
    then leaves it out)."""
    middlewares = crawler.engine.downloader.middleware.middlewares
    return next((found for found in middlewares if isinstance(found, RobotsTxtMiddleware)), None)


class _UnreadRobotsTxt(logging.Filter):
    """Scrapy logs a robots.txt it could not fetch as an ERROR with two tracebacks, under
    the name of the request that waited for it. The source's own request then says in
    plain words what failed (a DNS error, a refused connection) or goes ahead as if the
    site had no robots.txt; one line without a traceback is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping) and "f_exception" in record.args:
            request = record.args.get("request")
            url = getattr(request, "url", str(request))
            record.msg = "robots.txt for %s could not be read (%s); going on without it"
            record.args = (url, record.args["f_exception"])
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True
