"""The one spider of a crawl: it fetches every source given to it (a spider per source
would not scale to a thousand sources), each request tagged with its source's run, and
turns each response into a `Fetched` item for the store pipeline."""

import hashlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response
from scrapy.utils.defer import deferred_to_future
from twisted.internet import threads
from twisted.python.failure import Failure

from scrapers import fetching
from scrapers.extract import LayoutError, Page, Unread, read_page
from scrapers.extract.bounds import Limits
from scrapers.extract.links import find_file
from scrapers.fetching import FetchSettings
from scrapers.items import Fetched
from scrapers.middlewares import ASKED_TO_WAIT, TRIES
from scrapers.pacing import Pacer
from scrapers.recorder import Fetch, Memory, SourceRun
from scrapers.robots import robots_txt

if TYPE_CHECKING:
    from scrapers.streaming import Streamed

# Statuses that reach the callbacks instead of being dropped (redirects are still followed).
HANDLED = [304, *range(400, 600)]


class SourcesSpider(scrapy.Spider):
    name = "crossings"

    def __init__(
        self,
        runs: list[SourceRun],
        recorder: Memory,
        fetch: FetchSettings,
        on_finished: Callable[[SourceRun], None],
        robots_read: Mapping[str, bytes | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.robots_read = robots_read or {}  # robots.txt bodies the re-check read, per site
        self.runs = runs
        self.recorder = recorder
        self.fetch_settings = fetch
        self.on_finished = on_finished
        self.pacer = Pacer(fetch.download_delay)
        self.close_reason = ""
        self.stopping = False  # set when the crawl is cut short: stop streaming, store nothing
        self._lock = threading.Lock()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """A request when the engine can take one (Scrapy's "lazy start requests"): left to
        itself, Scrapy's scheduler took ~700 of 1,000 requests at once, each with its
        headers, meta and parsed URL (~2 MB of a first pass's peak, 1,000 pages). The downloader
        is what limits the pace either way."""
        for run in self.runs:
            if self.crawler.engine.needs_backout():
                await self.crawler.signals.wait_for(scrapy.signals.scheduler_empty)
            source = run.source
            if source.file_link:
                yield self._request(run, source.url, self.parse_listing)
            elif source.streamed:
                # The file itself is streamed outside Scrapy; this HEAD request gives it
                # robots.txt, the site's delay, and a cheap 304 when it has not changed.
                yield self._request(run, source.url, self.parse_file_head, method="HEAD")
            else:
                yield self._request(run, source.url, self.parse_page)

    def _request(
        self, run: SourceRun, url: str, callback: Callable, method: str = "GET"
    ) -> scrapy.Request:
        headers = run.source.request_headers(self.fetch_settings.agent)
        # The newest fetch that has a body: its validators make the request conditional,
        # and a 304 answer is stored pointing at its body (looked up once, here).
        latest = self.recorder.latest(run.name, url, with_body=True) if run.trust_cache else None
        if callback == self.parse_listing and not self.recorder.keeps_bodies:
            latest = None  # a 304 would leave nothing to find the file's link in
        if latest is not None:
            if latest.etag:
                headers["If-None-Match"] = latest.etag
            if latest.last_modified:
                headers["If-Modified-Since"] = latest.last_modified
        meta = {
            "run": run,
            "url": url,
            "latest": latest,
            "known_sha256": latest.sha256 if latest else None,
            "handle_httpstatus_list": HANDLED,
        }
        if method == "HEAD":
            meta["download_maxsize"] = 0
        return scrapy.Request(
            url,
            method=method,
            headers=headers,
            callback=callback,
            errback=self.failed,
            meta=meta,
            dont_filter=True,
        )

    # -- ordinary pages ------------------------------------------------------------------

    def parse_page(self, response: Response) -> Iterator[Fetched]:
        run = response.meta["run"]
        if (outcome := self._not_a_body(response)) is not None:
            yield outcome
            return
        fetch = _fetch(response)
        if self._same_as_before(response):
            yield Fetched(run, fetch, status="unchanged")
            return
        extraction = read_page(run.source, _page(response, Limits.of(self.fetch_settings)))
        if isinstance(extraction, Unread):
            yield Fetched(run, fetch, status=extraction.status, reason=extraction.reason)
            return
        yield Fetched(run, fetch, extraction, status="ok")

    def _not_a_body(self, response: Response) -> Fetched | None:
        """A 304 (unchanged: stored without a body) or an error status (failed)."""
        run = response.meta["run"]
        if response.status == 304:
            return Fetched(run, _fetch(response), status="unchanged")
        if response.status >= 400:
            return Fetched(run, status="failed", reason=_http_reason(response))
        return None

    def _same_as_before(self, response: Response) -> bool:
        known = response.meta.get("known_sha256")
        run = response.meta["run"]
        return bool(
            run.trust_cache and known and hashlib.sha256(response.body).hexdigest() == known
        )

    # -- files: a listing page, then the file (streamed or not) -------------------------------

    async def parse_listing(self, response: Response) -> AsyncIterator[Fetched | scrapy.Request]:
        run = response.meta["run"]
        if response.status >= 400:
            yield Fetched(run, status="failed", reason=_http_reason(response))
            return
        fetch = _fetch(response)
        body = response.body
        if response.status == 304:
            latest = response.meta.get("latest") or self.recorder.latest(
                run.name, response.meta["url"], with_body=True
            )
            body = self.recorder.body(latest.sha256) if latest and latest.sha256 else b""
        try:
            link = find_file(run.source, Page(response.meta["url"], body))
        except LayoutError as error:
            yield Fetched(run, fetch, status="broken", reason=str(error))
            return
        if link.newer:  # never stale in silence: the alert and the run's reason say it
            run.notice = link.newer
            run.said.append(link.newer)
        yield Fetched(run, fetch)
        if run.source.streamed:
            yield await self._stream_file(run, link.url, link.text)
        else:
            yield self._request(run, link.url, self.parse_page)

    async def parse_file_head(self, response: Response) -> AsyncIterator[Fetched]:
        run = response.meta["run"]
        if response.status == 304:
            yield Fetched(run, _fetch(response), status="unchanged")
            return
        yield await self._stream_file(run, response.meta["url"])

    async def _stream_file(self, run: SourceRun, url: str, link_text: str = "") -> Fetched:
        """Outside Scrapy, by the same policy: robots.txt from Scrapy's own middleware,
        the site's turn from the crawl's pacer, then parsed in a worker thread."""
        from scrapers.streaming import FetchError, download  # `requests`: only when streaming

        headers = run.source.request_headers(self.fetch_settings.agent)
        robots = robots_txt(self.crawler)
        if robots is not None and not await robots.allows(url, headers):
            return Fetched(run, status="failed", reason=f"{run.name}: {fetching.disallowed(url)}")
        latest = self.recorder.latest(run.name, url) if run.trust_cache else None
        conditional = {}
        if latest and latest.etag:
            conditional["If-None-Match"] = latest.etag
        if latest and latest.last_modified:
            conditional["If-Modified-Since"] = latest.last_modified
        try:
            streamed = await download(
                url,
                self.fetch_settings,
                headers=headers,
                conditional=conditional,
                pacer=self.pacer,
                cancelled=lambda: self.stopping or not self.crawler.crawling,
                counted=lambda requests, size: self._count(run, requests, size),
            )
        except FetchError as error:
            return Fetched(run, status="failed", reason=f"{run.name}: {error}")
        known = latest.sha256 if latest else None
        return await deferred_to_future(
            threads.deferToThread(self._extract_file, run, url, link_text, streamed, known)
        )

    def _extract_file(
        self, run: SourceRun, url: str, link_text: str, streamed: "Streamed", known: str | None
    ) -> Fetched:
        """In a worker thread: parse the downloaded file as a stream (no database here)."""
        fetch = Fetch(
            url, streamed.status, None, streamed.etag, streamed.last_modified, streamed.content_type
        )
        body_file = streamed.body_file
        if body_file is None:
            return Fetched(run, fetch, status="unchanged")
        if known and run.trust_cache and body_file.sha256 == known:
            return Fetched(run, fetch, body_file=body_file, status="unchanged")
        limits = Limits.of(self.fetch_settings)
        page = Page(url, opener=body_file.open, link_text=link_text, limits=limits)
        extraction = read_page(run.source, page)
        if isinstance(extraction, Unread):
            return Fetched(
                run, fetch, body_file=body_file, status=extraction.status, reason=extraction.reason
            )
        return Fetched(run, fetch, extraction, body_file=body_file, status="ok")

    def _count(self, run: SourceRun, requests: int, size: int) -> None:
        with self._lock:
            run.requests += requests
            run.bytes += size

    # -- outcomes ------------------------------------------------------------------------

    def failed(self, failure: Failure) -> Iterator[Fetched]:
        request = failure.request  # type: ignore[attr-defined]  # set by Scrapy, not Twisted
        run = request.meta["run"]
        yield Fetched(run, status="failed", reason=f"{run.name}: {self._failure_reason(failure)}")

    def _failure_reason(self, failure: Failure) -> str:
        request = failure.request  # type: ignore[attr-defined]  # set by Scrapy, not Twisted
        url, tries = request.url, request.meta.get(TRIES, 0)
        if failure.check(IgnoreRequest):
            return fetching.dropped(
                request.meta.get("url", url),
                str(failure.value),
                request.meta.get("redirect_urls", []),
                self.fetch_settings.max_body_mb,
            )
        if failure.check(DownloadTimeoutError, TimeoutError):
            return fetching.no_answer(url, self.fetch_settings, tries)
        if failure.check(DownloadCancelledError):
            return fetching.too_large(url, self.fetch_settings)
        if failure.check(CannotResolveHostError):
            return fetching.unresolved(url, tries)
        if failure.check(DownloadConnectionRefusedError, ConnectionRefusedError):
            return fetching.refused(url, tries)
        return fetching.failed(url, failure.getErrorMessage(), tries)

    def finish(self, run: SourceRun, status: str, reason: str | None) -> None:
        if run.status is None:
            self.recorder.finish(run, status, reason)
            self.on_finished(run)

    def closed(self, reason: str) -> None:
        self.close_reason = reason


def _fetch(response: Response) -> Fetch:
    headers = response.headers
    return Fetch(
        url=response.meta["url"],
        http_status=response.status,
        body=None if response.status == 304 else response.body,
        etag=_header(headers.get("ETag")),
        last_modified=_header(headers.get("Last-Modified")),
        content_type=_header(headers.get("Content-Type")),
        previous=response.meta.get("latest"),
    )


def _header(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value else None


def _page(response: Response, limits: Limits) -> Page:
    return Page(
        response.meta["url"],
        response.body,
        content_type=_header(response.headers.get("Content-Type")) or "",
        limits=limits,
    )


def _http_reason(response: Response) -> str:
    run = response.meta["run"]
    tries = response.meta.get(TRIES, 0)
    asked = response.meta.get(ASKED_TO_WAIT)
    reason = fetching.http_error(response.meta["url"], response.status, tries, asked=asked)
    return f"{run.name}: {reason}"
