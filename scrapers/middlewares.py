"""Downloader middlewares: retries that honour Retry-After, and per-source counting."""

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

from scrapers.fetching import MAX_RETRY_AFTER, RETRY_STATUSES, retry_after

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

    def __init__(self, retries: int, backoff: float) -> None:
        self.retries = retries
        self.backoff = backoff

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "RetryAfterMiddleware":
        settings = crawler.settings
        return cls(
            settings.getint("CROSSINGS_RETRIES"), settings.getfloat("CROSSINGS_RETRY_BACKOFF")
        )

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in RETRY_STATUSES or request.meta.get(TRIES, 0) >= self.retries:
            return response
        asked = retry_after(response.headers.get("Retry-After"))
        if asked is not None and asked > MAX_RETRY_AFTER:
            request.meta[ASKED_TO_WAIT] = asked  # the failure reason says how long
            return response
        return await self._again(request, asked)

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if (
            not isinstance(exception, RETRY_EXCEPTIONS)
            or request.meta.get(TRIES, 0) >= self.retries
        ):
            return None
        return await self._again(request, None)

    async def _again(self, request: Request, asked: float | None) -> Request:
        tries = request.meta.get(TRIES, 0)
        await asyncio.sleep(asked if asked is not None else self.backoff * 2**tries)
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
