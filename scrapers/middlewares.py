"""Downloader middlewares: retries that honour Retry-After (by the shared fetch policy),
per-source counting, and the site's turn every request takes from the crawl's `Pacer`."""

import asyncio

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from scrapy.http import Response

from scrapers.fetching import (
    MAX_RETRY_AFTER,
    RETRY_STATUSES,
    FetchSettings,
    retry_after,
    retry_wait,
)
from scrapers.pacing import Pacer

RETRY_EXCEPTIONS = (
    DownloadTimeoutError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    ResponseDataLossError,
    TimeoutError,
    ConnectionError,
)
TRIES = "crossings_tries"
HOLDS_TURN = "crossings_holds_turn"  # the request holds its site's turn (PacingMiddleware)
ASKED_TO_WAIT = "crossings_retry_after"  # seconds a Retry-After asked for, beyond our wait


class RetryAfterMiddleware:
    """Retries 429, 5xx and network errors with exponential backoff, waiting as long as
    the server's Retry-After asks (up to MAX_RETRY_AFTER); not a host that cannot be
    found (DNS), which will not be found seconds later either. Scrapy's own RetryMiddleware
    retries at once and ignores Retry-After, which is exactly what rate limits punish."""

    def __init__(self, fetch: FetchSettings) -> None:
        self.fetch = fetch

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "RetryAfterMiddleware":
        return cls(crawler.settings["CROSSINGS_FETCH"])

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in RETRY_STATUSES:
            return response
        tries = request.meta.get(TRIES, 0)
        asked = retry_after(response.headers.get("Retry-After"))
        if asked is not None and asked > MAX_RETRY_AFTER:
            request.meta[ASKED_TO_WAIT] = asked  # the failure reason says how long
        wait = retry_wait(self.fetch, tries, asked)
        return response if wait is None else await self._again(request, wait)

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if not isinstance(exception, RETRY_EXCEPTIONS):
            return None
        wait = retry_wait(self.fetch, request.meta.get(TRIES, 0), None)
        return None if wait is None else await self._again(request, wait)

    async def _again(self, request: Request, wait: float) -> Request:
        tries = request.meta.get(TRIES, 0)
        await asyncio.sleep(wait)
        retry = request.replace(dont_filter=True)
        retry.meta[TRIES] = tries + 1
        return retry


class CountingMiddleware:
    """Counts requests and bytes per source run (the run row reports them)."""

    def process_response(self, request: Request, response: Response) -> Response:
        if run := request.meta.get("run"):
            run.requests += 1
            run.bytes += len(response.body)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if run := request.meta.get("run"):
            run.requests += 1


class PacingMiddleware:
    """The last middleware before the download: a request takes its site's turn from the
    spider's `Pacer`, and gives it back when its answer or error comes back, here first.
    So a page waits while a streamed download holds its site, and the delay is kept
    between the two ways of fetching, in both orders."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "PacingMiddleware":
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if (pacer := self._pacer()) is not None:
            await pacer.take(request.url)
            request.meta[HOLDS_TURN] = True

    def process_response(self, request: Request, response: Response) -> Response:
        self._give_back(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._give_back(request)

    def _pacer(self) -> Pacer | None:
        pacer = getattr(self.crawler.spider, "pacer", None)
        return pacer if isinstance(pacer, Pacer) else None

    def _give_back(self, request: Request) -> None:
        if request.meta.pop(HOLDS_TURN, False) and (pacer := self._pacer()) is not None:
            pacer.give_back(request.url)
