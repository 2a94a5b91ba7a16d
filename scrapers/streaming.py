"""Fetching files too large to hold in memory (CBP's encounter CSVs reach a million rows).

Scrapy keeps a whole response body in memory, and then its copies; a 150 MB CSV would
cost several times that. These files are fetched instead with `requests` in streaming
mode, in a worker thread, straight into a `BodyFile` (hashed and zstd-compressed chunk by
chunk), and parsed from there as a stream. The same politeness applies as for every
other request: robots.txt (Protego, Scrapy's own parser), the User-Agent, the per-site
delay, conditional GET, the timeout, the maximum body size, and retries on 429/5xx that
honour Retry-After."""

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
    after_retries,
    came_back_after,
    retry_after,
)
from storage.deadline import Deadline
from storage.snapshots import BodyFile

CHUNK = 256 * 1024


class FetchError(Exception):
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
    conditional: dict[str, str],
    robots: RobotsCache,
    cancelled: Callable[[], bool],
    counted: Callable[[int, int], None],
) -> Streamed:
    """GET `url` into a BodyFile (or nothing, on 304). Raises FetchError with a reason."""
    session = requests.Session()
    session.headers["User-Agent"] = settings.agent
    if settings.obey_robots_txt and not robots.allowed(
        session, url, settings.agent, settings.timeout
    ):
        raise FetchError(f"robots.txt of {urlsplit(url).netloc} disallows {url}")
    tries = 0
    while True:
        if settings.download_delay:
            time.sleep(settings.download_delay)
        deadline = Deadline(settings.timeout)
        try:
            response = session.get(url, headers=conditional, stream=True, timeout=settings.timeout)
        except requests.Timeout:
            counted(1, 0)
            reason = f"no answer from {url} within {settings.timeout:g} s"
            wait = None
        except requests.RequestException as error:
            counted(1, 0)
            reason = f"could not fetch {url}: {error}"
            wait = None
        else:
            with response:
                if response.status_code not in RETRY_STATUSES:
                    return _receive(url, response, settings, deadline, cancelled, counted)
                counted(1, 0)
                reason = f"{url} answered HTTP {response.status_code}"
                wait = retry_after(response.headers.get("Retry-After"))
                if wait is not None and wait > MAX_RETRY_AFTER:
                    raise FetchError(reason + came_back_after(wait))
        if tries >= settings.retries or cancelled():
            raise FetchError(reason + after_retries(tries))
        time.sleep(wait if wait is not None else settings.retry_backoff * 2**tries)
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
        raise FetchError(f"{url} answered HTTP {response.status_code}")
    limit = settings.max_body_bytes
    declared = headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        counted(1, 0)
        raise FetchError(_too_large(url, settings))
    body_file = BodyFile()
    try:
        with deadline.guarding(lambda: _socket_of(response)):
            for chunk in response.iter_content(CHUNK):
                if cancelled():
                    raise FetchError(f"the crawl was stopped while {url} was downloading")
                body_file.write(chunk)
                if body_file.size > limit:
                    raise FetchError(_too_large(url, settings))
        body_file.finish()
    except (requests.RequestException, OSError) as error:
        body_file.discard()
        if deadline.expired:
            raise FetchError(
                f"{url} did not finish downloading within {settings.timeout:g} s (`timeout` in "
                "[settings] limits a whole download; raise it for a large file on a slow site)"
            ) from None
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


def _too_large(url: str, settings: FetchSettings) -> str:
    return (
        f"{url} is larger than max_body_mb = {settings.max_body_mb} MB; raise max_body_mb in "
        "[settings] if the file is expected to be that large"
    )
