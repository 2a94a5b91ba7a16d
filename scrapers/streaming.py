"""Fetching files too large to hold in memory (CBP's encounter CSVs reach a million rows).

Scrapy keeps a whole response body in memory, and then its copies; a 150 MB CSV would
cost several times that. These files are fetched instead in streaming mode
(`scrapers.requesting.Client`), in a worker thread, straight into a `BodyFile` (hashed
and zstd-compressed chunk by chunk), and parsed from there as a stream. The same fetch
policy applies as for every other request (`scrapers.fetching`): the User-Agent, the
site's turn and delay shared with Scrapy's requests (`Pacer`), conditional GET, the
timeout, the maximum body size, retries on 429/5xx that honour Retry-After, and the words
a failure is explained with. robots.txt is asked before (the spider asks Scrapy's
middleware: `scrapers.robots`)."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import urllib3
from scrapy.utils.defer import deferred_to_future
from twisted.internet.threads import deferToThread

from core.deadline import Deadline
from scrapers.fetching import (
    RETRY_STATUSES,
    FetchSettings,
    after_retries,
    http_error,
    retry_after,
    too_large,
    too_slow,
)
from scrapers.pacing import Pacer
from scrapers.requesting import (
    CHUNK,
    Again,
    Client,
    FetchError,
    TransportError,
    reading,
    send,
    socket_of,
)
from storage.snapshots import BodyFile


@dataclass
class Streamed:
    status: int
    body_file: BodyFile | None
    etag: str | None
    last_modified: str | None
    content_type: str | None


async def download(
    url: str,
    settings: FetchSettings,
    *,
    headers: dict[str, str] | None = None,
    conditional: dict[str, str],
    pacer: Pacer,
    cancelled: Callable[[], bool],
    counted: Callable[[int, int], None],
) -> Streamed:
    """GET `url` into a BodyFile (or nothing, on 304), retrying as Scrapy's requests do.
    Each try takes the site's turn from `pacer` and runs in a worker thread; called in
    the reactor thread. Raises FetchError with a reason."""
    client = Client(settings, headers)
    tries = 0
    while True:
        async with pacer.turn(url):
            answer = await deferred_to_future(
                deferToThread(_try, client, url, settings, conditional, cancelled, counted)
            )
        if isinstance(answer, Streamed):
            return answer
        wait = answer.wait(settings, tries)
        if wait is None or cancelled():
            raise FetchError(answer.reason + after_retries(tries))
        await asyncio.sleep(wait)
        tries += 1


def fetch_now(url: str, settings: FetchSettings, *, headers: dict[str, str]) -> Streamed:
    """One GET now, outside a crawl (`crossings inspect`): the same tries, retries, limits
    and words as `download`, waiting in this thread. Raises FetchError with a reason."""
    client = Client(settings, headers)
    tries = 0
    while True:
        answer = _try(client, url, settings, {}, lambda: False, lambda requests, size: None)
        if isinstance(answer, Streamed):
            return answer
        wait = answer.wait(settings, tries)
        if wait is None:
            raise FetchError(answer.reason + after_retries(tries))
        time.sleep(wait)
        tries += 1


def _try(
    client: Client,
    url: str,
    settings: FetchSettings,
    conditional: dict[str, str],
    cancelled: Callable[[], bool],
    counted: Callable[[int, int], None],
) -> Streamed | Again:
    """One GET, in a worker thread: the file, or why to try again."""
    deadline = Deadline(settings.timeout)
    response = send(client, url, counted, conditional)
    if isinstance(response, Again):
        return response
    with reading(response):
        if response.status not in RETRY_STATUSES:
            return _receive(url, response, settings, deadline, cancelled, counted)
        counted(1, 0)
        asked = retry_after(response.headers.get("Retry-After"))
        return Again(http_error(url, response.status, 0, asked=asked), asked)


def _receive(
    url: str,
    response: urllib3.BaseHTTPResponse,
    settings: FetchSettings,
    deadline: Deadline,
    cancelled: Callable[[], bool],
    counted: Callable[[int, int], None],
) -> Streamed:
    """The body into a BodyFile, within the request's `timeout` in all (a socket timeout
    alone bounds each read, and a trickling server would never be cut off)."""
    headers = response.headers
    found = Streamed(
        response.status,
        None,
        headers.get("ETag"),
        headers.get("Last-Modified"),
        headers.get("Content-Type"),
    )
    if response.status == 304:
        counted(1, 0)
        return found
    if response.status >= 300:
        counted(1, 0)
        raise FetchError(http_error(url, response.status, 0))
    limit = settings.max_body_bytes
    declared = headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        counted(1, 0)
        raise FetchError(too_large(url, settings))
    body_file = BodyFile()
    try:
        with deadline.guarding(lambda: socket_of(response)):
            for chunk in response.stream(CHUNK):
                if cancelled():
                    raise FetchError(f"the crawl was stopped while {url} was downloading")
                body_file.write(chunk)
                if body_file.size > limit:
                    raise FetchError(too_large(url, settings))
        body_file.finish()
    except (TransportError, OSError) as error:
        body_file.discard()
        if deadline.expired:
            raise FetchError(too_slow(url, settings)) from None
        raise FetchError(f"the download of {url} broke off: {error}") from None
    except BaseException:
        body_file.discard()
        raise
    finally:
        counted(1, body_file.size)
    found.body_file = body_file
    return found
