"""The fetch policy of `scrapers.fetching` carried out with urllib3 (requests' own
transport), outside Scrapy: by `scrapers.streaming` (large files, in a worker thread of the
crawl) and `scrapers.recheck` (conditional GETs of pages before Scrapy starts). One try of
a request, the trouble it met in the words Scrapy's path uses, retries that honour
Retry-After, robots.txt read and parsed as Scrapy's middleware does, and daemon worker
threads with a client each. Neither Scrapy nor Twisted is imported here."""

import asyncio
import contextlib
import functools
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

import requests.utils
import urllib3
from protego import Protego
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.exceptions import HTTPError as TransportError

from core.deadline import RESHUT_EVERY, Deadline
from core.errors import CrossingsError
from scrapers.fetching import (
    DEFAULT_HEADERS,
    FetchSettings,
    failed,
    no_answer,
    refused,
    retry_wait,
    too_large,
    too_large_decompressed,
    unresolved,
)

CHUNK = 256 * 1024
T = TypeVar("T")


class FetchError(CrossingsError):
    """The URL could not be fetched; the message says why, in plain words."""


class Again(NamedTuple):
    """A try that may be retried: why it failed, and what Retry-After asked for. A host
    that cannot be found (DNS) is not retried within the crawl (`final`)."""

    reason: str
    asked: float | None
    final: bool = False

    def wait(self, settings: FetchSettings, tries: int) -> float | None:
        """Seconds to wait before the next try, or None when there is none."""
        return None if self.final else retry_wait(settings, tries, self.asked)


class Client:
    """What sends a request as a `requests` session did (its headers, CA bundle, proxies
    from the environment, no cookies), on urllib3's pools directly: the session's own work
    (hooks, cookie jar, merging settings and headers, the Response) cost ~0.3 ms of CPU a
    request, as much as the rest of an unchanged page's conditional GET (bench/README.md,
    "Round five"). Its retries are requests' (none), so the errors it raises are the ones
    requests wrapped, with the same words."""

    RETRIES = urllib3.Retry(0, read=False)

    def __init__(self, settings: FetchSettings, headers: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        # names are case-insensitive: a source's "user-agent" replaces the User-Agent
        self.headers = urllib3.HTTPHeaderDict(requests.utils.default_headers())
        self.headers["User-Agent"] = settings.agent
        self.headers.update(headers or {})  # the source's own User-Agent, Referer, ...
        # read once, not at each request: a CA bundle named by the environment (as a
        # requests session reads it), else requests' own; no .netrc (Scrapy reads none)
        self._ca_certs = (
            os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE")
            or requests.utils.DEFAULT_CA_BUNDLE_PATH
        )
        self._direct = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=self._ca_certs)
        self._proxied: dict[str, urllib3.ProxyManager] = {}

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> urllib3.BaseHTTPResponse:
        """A GET whose body is still to be read (redirects not followed); raises urllib3's
        errors (`send` says them in Scrapy's words)."""
        timeout = urllib3.Timeout(connect=self.settings.timeout, read=self.settings.timeout)
        proxy = requests.utils.select_proxy(url, site_proxies(url))
        pools = self._direct if proxy is None else self._through(proxy)
        sent = self.headers.copy()
        sent.update(headers or {})
        return pools.urlopen(
            "GET", url,
            headers=sent,
            redirect=False, preload_content=False, decode_content=True,
            retries=self.RETRIES, timeout=timeout,
        )  # fmt: skip

    def _through(self, proxy: str) -> urllib3.ProxyManager:
        if proxy not in self._proxied:
            user, password = requests.utils.get_auth_from_url(proxy)
            auth = urllib3.make_headers(proxy_basic_auth=f"{user}:{password}") if user else {}
            self._proxied[proxy] = urllib3.ProxyManager(
                proxy, proxy_headers=auth, cert_reqs="CERT_REQUIRED", ca_certs=self._ca_certs
            )
        return self._proxied[proxy]

    def close(self) -> None:
        self._direct.clear()
        for pools in self._proxied.values():
            pools.clear()


@contextlib.contextmanager
def reading(response: urllib3.BaseHTTPResponse) -> Iterator[urllib3.BaseHTTPResponse]:
    """The response while its body is read; then its connection goes back to the pool
    (closed first, when the body was not read to its end), as requests does."""
    try:
        yield response
    finally:
        response.close()
        response.release_conn()


def trouble(url: str, error: Exception) -> Again:
    """Why a request got no answer, in the words Scrapy's path uses for the same trouble
    (the OS error lies a few links down the chain urllib3 raises)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return Again(unresolved(url, 0), None, final=True)
        if isinstance(cause, ConnectionRefusedError):
            return Again(refused(url, 0), None)
        cause = cause.__cause__ or cause.__context__
    return Again(failed(url, str(error), 0), None)


def socket_of(response: urllib3.BaseHTTPResponse) -> socket.socket | None:
    """The socket a streamed response is read from: its connection's, or, when the
    server closes the connection after the body (HTTP/1.0), the one its file reads."""
    if (sock := getattr(response.connection, "sock", None)) is not None:
        return sock
    reader = getattr(getattr(response, "_fp", None), "fp", None)
    return getattr(getattr(reader, "raw", None), "_sock", None)


class Watchdog:
    """`Deadline.guarding` for many downloads at once from one thread: at a download's
    deadline its socket is shut down (and again every RESHUT_EVERY until it ends), which
    ends the read in progress. A watchdog thread per download costs more than the
    conditional GET of a page that has not changed."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._watched: dict[int, tuple[Deadline, Callable[[], socket.socket | None]]] = {}
        self._next = 0
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def guarding(
        self, deadline: Deadline, current: Callable[[], socket.socket | None]
    ) -> Iterator[None]:
        with self._changed:
            key, self._next = self._next, self._next + 1
            self._watched[key] = (deadline, current)
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="deadlines", daemon=True)
                self._thread.start()
            if len(self._watched) == 1:  # it may be waiting with nothing to watch
                self._changed.notify()
        try:
            yield
        finally:
            with self._changed:
                del self._watched[key]

    def _watch(self) -> None:
        with self._changed:
            while True:
                now, wake = time.monotonic(), None
                for deadline, current in self._watched.values():
                    if deadline.ends <= now:
                        deadline.expired = True
                        if (sock := current()) is not None:
                            # the plain socket's shutdown, also under TLS (as Deadline)
                            with contextlib.suppress(OSError):
                                socket.socket.shutdown(sock, socket.SHUT_RDWR)
                    until = RESHUT_EVERY if deadline.expired else deadline.ends - now
                    wake = until if wake is None else min(wake, until)
                self._changed.wait(wake)


WATCHDOG = Watchdog()  # one thread for every page download of the process


# -- a page in memory, as Scrapy downloads one -------------------------------------------


@dataclass
class Answer:
    """A response read whole: its status, headers and (decoded) body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def send(
    client: Client,
    url: str,
    counted: Callable[[int, int], None],
    headers: Mapping[str, str] | None = None,
) -> urllib3.BaseHTTPResponse | Again:
    """A streamed GET within `timeout`: the response (its body still to read), or why to
    try again in Scrapy's words (no answer in time, a refused or broken connection, a
    host DNS does not know); a try that got no response counts as a request."""
    try:
        return client.get(url, headers)
    except (TransportError, OSError) as error:
        counted(1, 0)
        if _timed_out(error):
            return Again(no_answer(url, client.settings, 0), None)
        return trouble(url, error)


def _timed_out(error: Exception) -> bool:
    """No answer in time: a read, or a connection not made (a refused one is not)."""
    if isinstance(error, MaxRetryError):
        error = error.reason or error
    if isinstance(error, NewConnectionError):
        return False
    return isinstance(error, ReadTimeoutError | ConnectTimeoutError)


def get_page(
    client: Client,
    url: str,
    headers: Mapping[str, str],
    cancelled: Callable[[], bool],
    counted: Callable[[int, int], None],
) -> Answer | Again:
    """One GET of a page into memory, in a worker thread, as Scrapy's downloader makes
    it: redirects are not followed here (the caller asks robots.txt about each), the
    whole download within `timeout` (else retried), bodies past `max_body_mb` (declared,
    received or decompressed) refused. Every answer is returned, whatever its status;
    raises FetchError when the page is too large or the crawl was stopped."""
    settings = client.settings
    deadline = Deadline(settings.timeout)
    response = send(client, url, counted, headers)
    if isinstance(response, Again):
        return response
    limit = settings.max_body_bytes
    with reading(response):
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            counted(1, 0)
            raise FetchError(too_large(url, settings))
        body = bytearray()
        try:
            with WATCHDOG.guarding(deadline, lambda: socket_of(response)):
                for chunk in response.stream(CHUNK):
                    if cancelled():
                        raise FetchError(f"the crawl was stopped while {url} was downloading")
                    body += chunk
                    if len(body) > limit:
                        packed = response.tell()
                        if packed > limit:
                            raise FetchError(too_large(url, settings))
                        raise FetchError(too_large_decompressed(url, settings.max_body_mb, packed))
        except (TransportError, OSError) as error:
            if deadline.expired:
                return Again(no_answer(url, settings, 0), None)
            return trouble(url, error)
        finally:
            counted(1, response.tell())
    return Answer(response.status, response.headers, bytes(body))


@functools.cache
def _proxies(scheme: str, site: str) -> dict[str, str]:
    return requests.utils.get_environ_proxies(f"{scheme}://{site}/")


def site_proxies(url: str) -> dict[str, str]:
    """The proxies the environment names for `url`'s site (as Scrapy's HttpProxyMiddleware
    reads them, no_proxy included), read once per site: reading the whole environment
    at each request cost ~0.4 ms, more than a 304 costs."""
    parts = urlsplit(url)
    return _proxies(parts.scheme, parts.netloc)


# -- robots.txt ------------------------------------------------------------------------


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def robots_parser(body: bytes) -> Protego:
    """robots.txt parsed as Scrapy's middleware parses it (Protego; undecodable bytes
    ignored), whatever the status that brought it."""
    return Protego.parse(body.decode("utf-8-sig", errors="ignore"))


# -- worker threads ----------------------------------------------------------------------


@dataclass
class Workers:
    """Daemon threads, each with its own `Client` (connections kept alive),
    running blocking calls for an asyncio loop. Daemon threads: a crawl cut short does not
    wait for one stuck in a DNS lookup or a slow read."""

    settings: FetchSettings
    count: int
    _jobs: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        for number in range(self.count):
            worker = threading.Thread(target=self._work, name=f"fetch-{number}", daemon=True)
            worker.start()
            self._threads.append(worker)

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """`call(client, *args)` in a worker thread."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, done, call, args))
        return await done

    def stop(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        client = Client(self.settings, DEFAULT_HEADERS)
        while (job := self._jobs.get()) is not None:
            loop, done, call, args = job
            try:
                result = call(client, *args)
            except BaseException as error:  # handed to the awaiting task
                _settle(loop, done, error=error)
            else:
                _settle(loop, done, result=result)
        client.close()


def _settle(
    loop: asyncio.AbstractEventLoop,
    done: asyncio.Future,
    *,
    result: object = None,
    error: BaseException | None = None,
) -> None:
    def settle() -> None:
        if done.cancelled():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)

    with contextlib.suppress(RuntimeError):  # the loop is closed: the crawl was cut
        loop.call_soon_threadsafe(settle)
