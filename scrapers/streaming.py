"""Fetching files too large to hold in memory (CBP's encounter CSVs reach a million rows).

Scrapy keeps a whole response body in memory, and then its copies; a 150 MB CSV would
cost several times that. These files are fetched instead with `requests` in streaming
mode, in a worker thread, straight into a `BodyFile` (hashed and zstd-compressed chunk by
chunk), and parsed from there as a stream. The same fetch policy applies as for every
other request (`scrapers.fetching`): robots.txt (Protego, Scrapy's own parser), the
User-Agent, the per-site delay shared with Scrapy's requests (`Pacer`: one download per
site at a time), conditional GET, the timeout, the maximum body size, retries on 429/5xx
that honour Retry-After, and the words a failure is explained with."""

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from protego import Protego

from scrapers.fetching import (
    MAX_RETRY_AFTER,
    RETRY_STATUSES,
    FetchSettings,
    Pacer,
    after_retries,
    disallowed,
    http_error,
    no_answer,
    retry_after,
    retry_wait,
    too_large,
    too_slow,
)
from storage import CrossingsError
from storage.deadline import Deadline
from storage.snapshots import BodyFile

CHUNK = 256 * 1024


class FetchError(CrossingsError):
    """The file could not be fetched; the message says why, in plain words."""


@dataclass
class Streamed:
    status: int
    body_file: BodyFile | None
    etag: str | None
    last_modified: str | None
    content_type: str | None


class RobotsCache:
    """robots.txt per site, fetched once per crawl."""

    def __init__(self) -> None:
        self._parsers: dict[str, Protego | None] = {}
        self._lock = threading.Lock()

    def allowed(self, session: requests.Session, url: str, agent: str, timeout: float) -> bool:
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            if site not in self._parsers:
                try:
                    answer = session.get(f"{site}/robots.txt", timeout=timeout)
                    ok = answer.status_code == 200
                    self._parsers[site] = Protego.parse(answer.text) if ok else None
                except requests.RequestException:
                    self._parsers[site] = None
            parser = self._parsers[site]
        return parser is None or parser.can_fetch(url, agent)


def download(
    url: str,
    settings: FetchSettings,
    *,
    headers: dict[str, str] | None = None,
    conditional: dict[str, str],
    robots: RobotsCache,
    pacer: Pacer,
    cancelled: Callable[[], bool],
    counted: Callable[[int, int], None],
) -> Streamed:
    """GET `url` into a BodyFile (or nothing, on 304). Raises FetchError with a reason."""
    session = requests.Session()
    session.headers["User-Agent"] = settings.agent
    session.headers.update(headers or {})  # the source's own User-Agent, Referer, ...
    agent = str(session.headers["User-Agent"])
    if settings.obey_robots_txt and not robots.allowed(session, url, agent, settings.timeout):
        raise FetchError(disallowed(url))
    with pacer.hold(url):
        return _get(session, url, settings, conditional, pacer, cancelled, counted)


def _get(
    session: requests.Session,
    url: str,
    settings: FetchSettings,
    conditional: dict[str, str],
    pacer: Pacer,
    cancelled: Callable[[], bool],
    counted: Callable[[int, int], None],
) -> Streamed:
    tries = 0
    while True:
        pacer.wait_turn(url)
        asked = None
        deadline = Deadline(settings.timeout)
        try:
            response = session.get(url, headers=conditional, stream=True, timeout=settings.timeout)
        except requests.Timeout:
            counted(1, 0)
            reason = no_answer(url, settings, 0)
        except requests.RequestException as error:
            counted(1, 0)
            reason = f"could not fetch {url}: {error}"
        else:
            with response:
                if response.status_code not in RETRY_STATUSES:
                    return _receive(url, response, settings, deadline, cancelled, counted)
                counted(1, 0)
                reason = http_error(url, response.status_code, 0)
                asked = retry_after(response.headers.get("Retry-After"))
                if asked is not None and asked > MAX_RETRY_AFTER:
                    raise FetchError(http_error(url, response.status_code, 0, asked=asked))
        wait = retry_wait(settings, tries, asked)
        if wait is None or cancelled():
            raise FetchError(reason + after_retries(tries))
        time.sleep(wait)
        tries += 1


def _receive(
    url: str,
    response: requests.Response,
    settings: FetchSettings,
    deadline: Deadline,
    cancelled: Callable[[], bool],
    counted: Callable[[int, int], None],
) -> Streamed:
    """The body into a BodyFile, within the request's `timeout` in all (a socket timeout
    alone bounds each read, and a trickling server would never be cut off)."""
    headers = response.headers
    found = Streamed(
        response.status_code,
        None,
        headers.get("ETag"),
        headers.get("Last-Modified"),
        headers.get("Content-Type"),
    )
    if response.status_code == 304:
        counted(1, 0)
        return found
    if response.status_code >= 300:
        counted(1, 0)
        raise FetchError(http_error(url, response.status_code, 0))
    limit = settings.max_body_bytes
    declared = headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        counted(1, 0)
        raise FetchError(too_large(url, settings))
    body_file = BodyFile()
    try:
        with deadline.guarding(lambda: _socket_of(response)):
            for chunk in response.iter_content(CHUNK):
                if cancelled():
                    raise FetchError(f"the crawl was stopped while {url} was downloading")
                body_file.write(chunk)
                if body_file.size > limit:
                    raise FetchError(too_large(url, settings))
        body_file.finish()
    except (requests.RequestException, OSError) as error:
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


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket a streamed response is read from: its connection's, or, when the
    server closes the connection after the body (HTTP/1.0), the one its file reads."""
    if (sock := getattr(response.raw.connection, "sock", None)) is not None:
        return sock
    reader = getattr(getattr(response.raw, "_fp", None), "fp", None)
    return getattr(getattr(reader, "raw", None), "_sock", None)
