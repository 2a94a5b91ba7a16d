"""The re-check: before Scrapy starts, the pages a crawl has seen before are asked again
with conditional GETs, outside Scrapy (urllib3 in a few worker threads, an asyncio
loop for the waits). An unchanged page (304, or the same bytes) costs a request and two
row writes, not Scrapy's start-up and its ~2 ms of engine a request; a crawl that has
nothing else to do never imports Scrapy or Twisted.

Re-checked: plain page sources with a stored body, when the cache is trusted (the last
run was not broken); the GET is conditional when that body came with validators (ETag or
Last-Modified), and an answer with the same bytes is unchanged either way. Left to Scrapy:
first fetches, files found via a landing page (the link is followed in the spider) and
streamed files (a HEAD through Scrapy, then the streamed download), and a page that
answers with a meta refresh or an odd 3xx.

The fetch policy is Scrapy's path's, from the same code (`scrapers.fetching`,
`scrapers.requesting`, `scrapers.pacing`): User-Agent, default and per-source headers,
robots.txt read once per site and asked for every URL (redirects too), the site's turn
and delay (`Pacer`), at most `concurrent_requests` (and 16) requests at once, the timeout,
the body limit, redirects (at most 20), retries on 429/5xx and network errors honouring
Retry-After but not on a DNS failure, and the words a failure is explained with. What is
stored is what the spider and `StorePipeline` store for the same answer: a 304 (or the
same bytes) is a snapshot row pointing at the previous body and an `unchanged` run; a
changed page goes once through `read_page` and `Recorder.page`."""

import asyncio
import contextlib
import hashlib
import logging
import re
import threading
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

from protego import Protego

from core.status import RunStatus
from scrapers.extract import Page, Unread, read_page
from scrapers.extract.bounds import Limits
from scrapers.fetching import (
    MAX_REDIRECTS,
    RETRY_STATUSES,
    FetchSettings,
    after_retries,
    disallowed,
    dropped,
    http_error,
    retry_after,
    retry_wait,
)
from scrapers.items import Fetched
from scrapers.pacing import Pacer
from scrapers.recorder import Fetch, Recorder, SourceRun
from scrapers.requesting import (
    Again,
    Answer,
    FetchError,
    Workers,
    get_page,
    robots_parser,
    robots_url,
)
from storage.snapshots import Snapshot

log = logging.getLogger(__name__)

MAX_WORKERS = 16
# Answers are stored in batches, one transaction each, at most this long after they came
# (a commit a source was most of an unchanged pass); a run is reported finished once its
# batch is committed.
STORE_EVERY = 0.05
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Scrapy follows a meta refresh (MetaRefreshMiddleware, in the first 4 KB): such a page,
# and any 3xx it would not follow, is left to Scrapy rather than read differently here.
META_REFRESH = re.compile(rb"http-equiv\s*=\s*[\"']?refresh", re.IGNORECASE)
NO_OUTCOME = "the crawl ended without an outcome"


class Recheck:
    """One re-check pass over some of a crawl's runs; `run` returns those left to Scrapy.
    `stop` (from a signal handler or another thread) cuts it short: what is in flight
    is abandoned, nothing more is stored, and `stopped` says why."""

    def __init__(
        self,
        recorder: Recorder,
        settings: FetchSettings,
        on_finished: Callable[[SourceRun], None],
    ) -> None:
        self.recorder = recorder
        self.settings = settings
        self.on_finished = on_finished
        self.stopped: str | None = None
        self.left: list[SourceRun] = []
        self.robots_read: dict[str, bytes | None] = {}  # per site, for Scrapy's middleware
        self._pacer = Pacer(settings.download_delay)
        self._robots: dict[str, asyncio.Future[Protego | None]] = {}
        self._limits = Limits.of(settings)
        self._lock = threading.Lock()
        self._pending: list[Fetched] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._workers: Workers | None = None

    def run(
        self, checks: list[tuple[SourceRun, Snapshot]], time_limit: tuple[float, str] | None
    ) -> list[SourceRun]:
        """Re-check every (run, stored fetch); past `time_limit` (seconds, and why to
        give), stop."""
        asyncio.run(self._all(checks, time_limit))
        return self.left

    def stop(self, why: str) -> None:
        """Safe from a signal handler and from any thread."""
        if self.stopped is None:
            self.stopped = why
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the pass is over
                self._loop.call_soon_threadsafe(self._cancel)

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _all(
        self, checks: list[tuple[SourceRun, Snapshot]], time_limit: tuple[float, str] | None
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        if time_limit is not None:
            seconds, why = time_limit
            self._loop.call_later(seconds, self.stop, why)
        count = min(MAX_WORKERS, self.settings.concurrent_requests, len(checks))
        self._workers = Workers(self.settings, count)
        try:
            if self.stopped is None:  # a signal before the loop ran
                await asyncio.gather(*(self._check(run, latest) for run, latest in checks))
                self._store_pending()
        except asyncio.CancelledError:
            pass  # stopped: the caller closes the runs left open as interrupted
        finally:
            self._workers.stop()

    # -- one source ------------------------------------------------------------------------

    async def _check(self, run: SourceRun, latest: Snapshot) -> None:
        url = run.source.url
        headers = run.source.request_headers(self.settings.agent)
        if latest.etag:
            headers["If-None-Match"] = latest.etag
        if latest.last_modified:
            headers["If-Modified-Since"] = latest.last_modified
        try:
            answer, tries, asked = await self._get(url, headers, run)
        except FetchError as error:
            item = Fetched(run, status=RunStatus.FAILED, reason=f"{run.name}: {error}")
        except Exception:  # a bug must not end the other sources' checks
            log.exception("re-checking %s failed", run.name)
            item = Fetched(run, status=RunStatus.FAILED, reason=f"{run.name}: {NO_OUTCOME}")
        else:
            if _for_scrapy(answer):
                self.left.append(run)
                return
            item = self._read(run, answer, latest, tries, asked)
        self._pending.append(item)
        if len(self._pending) == 1:
            asyncio.get_running_loop().call_later(STORE_EVERY, self._store_pending)

    async def _get(
        self, url: str, headers: dict[str, str], run: SourceRun | None
    ) -> tuple[Answer, int, float | None]:
        """GET `url` as Scrapy's middlewares would: robots.txt, the site's turn, redirects
        followed and retries made; the last answer, its retries and its Retry-After.
        Raises FetchError with the reason (not for an HTTP status)."""
        current, visited, tries = url, list[str](), 0
        counted = self._counter(run)
        while True:
            if run is not None and not await self._allowed(current, headers["User-Agent"]):
                raise FetchError(disallowed(url))
            assert self._workers is not None
            async with self._pacer.turn(current):
                answer = await self._workers.run(get_page, current, headers, self._cut, counted)
            asked = None
            if isinstance(answer, Again):
                wait = answer.wait(self.settings, tries)
                if wait is None:
                    raise FetchError(answer.reason + after_retries(tries))
            elif answer.status in RETRY_STATUSES:
                asked = retry_after(answer.headers.get("Retry-After"))
                wait = retry_wait(self.settings, tries, asked)
                if wait is None:
                    return answer, tries, asked
            elif answer.status in REDIRECTS and answer.headers.get("Location"):
                if len(visited) >= MAX_REDIRECTS:
                    raise FetchError(
                        dropped(url, "max redirections reached", visited, self.settings.max_body_mb)
                    )
                visited.append(current)
                current = urljoin(current, answer.headers["Location"])
                continue
            else:
                return answer, tries, asked
            await asyncio.sleep(wait)
            tries += 1

    async def _allowed(self, url: str, agent: str) -> bool:
        """Whether robots.txt lets `agent` fetch `url`; each site's is fetched once, and
        one that cannot be read allows everything (as in Scrapy)."""
        if not self.settings.obey_robots_txt:
            return True
        site = urlsplit(url).netloc
        if site not in self._robots:
            self._robots[site] = asyncio.ensure_future(self._read_robots(url))
        parser = await asyncio.shield(self._robots[site])
        return parser is None or parser.can_fetch(url, agent)

    async def _read_robots(self, url: str) -> Protego | None:
        try:
            answer, _, _ = await self._get(
                robots_url(url), {"User-Agent": self.settings.agent}, None
            )
        except FetchError as error:
            log.info("robots.txt for %s could not be read (%s); going on without it", url, error)
            self.robots_read[urlsplit(url).netloc] = None
            return None
        self.robots_read[urlsplit(url).netloc] = answer.body
        return robots_parser(answer.body)

    def _counter(self, run: SourceRun | None) -> Callable[[int, int], None]:
        """Requests and bytes for the run row, counted from the worker threads (a
        robots.txt request is nobody's, as in Scrapy)."""

        def counted(requests: int, size: int) -> None:
            if run is not None:
                with self._lock:
                    run.requests += requests
                    run.bytes += size

        return counted

    def _cut(self) -> bool:
        return self.stopped is not None

    # -- what the answer is, and storing it --------------------------------------------------

    def _read(
        self, run: SourceRun, answer: Answer, latest: Snapshot, tries: int, asked: float | None
    ) -> Fetched:
        """What `SourcesSpider.parse_page` makes of the same answer."""
        url, status, headers = run.source.url, answer.status, answer.headers
        if status >= 400:
            reason = http_error(url, status, tries, asked=asked)
            return Fetched(run, status=RunStatus.FAILED, reason=f"{run.name}: {reason}")
        fetch = Fetch(
            url=url,
            http_status=status,
            body=None if status == 304 else answer.body,
            etag=headers.get("ETag") or None,
            last_modified=headers.get("Last-Modified") or None,
            content_type=headers.get("Content-Type") or None,
            previous=latest,
        )
        if status == 304 or hashlib.sha256(answer.body).hexdigest() == latest.sha256:
            return Fetched(run, fetch, status=RunStatus.UNCHANGED)
        page = Page(url, answer.body, content_type=fetch.content_type or "", limits=self._limits)
        extraction = read_page(run.source, page)
        if isinstance(extraction, Unread):
            return Fetched(run, fetch, status=extraction.status, reason=extraction.reason)
        return Fetched(run, fetch, extraction, status=RunStatus.OK)

    def _store_pending(self) -> None:
        """Store the answers that came in, in one transaction; then report their runs."""
        items, self._pending = self._pending, []
        if not items or self.stopped is not None:
            return
        with self.recorder.store.transaction():
            for item in items:
                self._store(item)
        for item in items:
            self.on_finished(item.run)

    def _store(self, item: Fetched) -> None:
        """Store an answer as the spider's pipeline does, then close its run (nested in
        the batch's transaction: a savepoint each)."""
        status, reason = item.store(self.recorder)
        assert status is not None  # every item of a page is its run's last
        self.recorder.finish(item.run, status, reason)


def _for_scrapy(answer: Answer) -> bool:
    """A page Scrapy would read differently: a 3xx it does not follow, or a meta refresh."""
    if 300 <= answer.status < 400 and answer.status != 304:
        return True
    return answer.status < 300 and bool(META_REFRESH.search(answer.body[:4096]))
