"""robots.txt, obeyed for every request - including those that wait together for it.

Scrapy 2.19's RobotsTxtMiddleware hands the parsed robots.txt to the requests waiting for
it through one Twisted Deferred that each awaits with `maybe_deferred_to_future`; the
first waiter's callback returns None into the chain, so every other waiter gets None
and is let through as if the site had no robots.txt (shown by test_crawl's two private
sources). This subclass reads the parser from the middleware's table once the wait is
over, which is set before the waiters wake."""

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxt
from scrapy.http import Request
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class RobotsTxtMiddleware(ScrapyRobotsTxt):
    async def robot_parser(self, request: Request) -> RobotParser | None:
        parser = await super().robot_parser(request)
        known = self._parsers.get(urlparse_cached(request).netloc)
        return parser if known is None or isinstance(known, Deferred) else known
