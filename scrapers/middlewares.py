"""Downloader middlewares: retries that honour Retry-After (by the shared fetch policy),
and per-source counting, which also tells the crawl's `Pacer` when a site was asked."""

import asyncio

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
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

RETRY_EXCEPTIONS = (
    DownloadTimeoutError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    ResponseDataLossError,
    CannotResolveHostError,
    TimeoutError,
    ConnectionError,
)
TRIES = "crossings_tries"
ASKED_TO_WAIT = "crossings_retry_after"  # seconds a Retry-After asked for, beyond our wait


class RetryAfterMiddleware:
    """Retries 429, 5xx and network errors with exponential backoff, waiting as long as
    the server's Retry-After asks (up to MAX_RETRY_AFTER). Scrapy's own RetryMiddleware
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
    """Counts requests and bytes per source run (the run row reports them), and tells the
    spider's pacer a site was asked (streamed downloads keep the delay after it)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "CountingMiddleware":
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if (pacer := getattr(self.crawler.spider, "pacer", None)) is not None:
            pacer.sent(request.url)

    def process_response(self, request: Request, response: Response) -> Response:
        if run := request.meta.get("run"):
            run.requests += 1
            run.bytes += len(response.body)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if run := request.meta.get("run"):
            run.requests += 1
