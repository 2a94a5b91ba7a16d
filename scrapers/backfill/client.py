"""Asking a web archive, politely: its robots.txt is obeyed, one request at a time with a
delay between them, 429 and 5xx answers retried as the crawler retries them (honouring
Retry-After, `scrapers.fetching`), and every request — robots.txt, index queries and
captures — counted against a budget. Captures are fetched as archived ("id_" mode: the
bytes the archive received, no rewriting)."""

import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import requests
from requests import Response

from core.errors import CrossingsError
from scrapers.backfill.cdx import Capture, collapse, parse
from scrapers.fetching import (
    RETRY_STATUSES,
    FetchSettings,
    disallowed,
    failed,
    http_error,
    no_answer,
    refused,
    retry_after,
    retry_wait,
    too_large,
)

INTERNET_ARCHIVE = "https://web.archive.org/web"
DEFAULT_DELAY = 4.0  # seconds between requests: the Internet Archive throttles faster clients
DEFAULT_BUDGET = 300  # requests per backfill run


class ArchiveTrouble(CrossingsError):
    """The archive cannot be asked further now (down, refusing, rate-limiting beyond
    patience, or the request budget is spent): the backfill stops; a later run resumes."""


class CaptureError(CrossingsError):
    """One capture could not be had whole (cut short, or an error answer)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str
    location: str  # where a redirect points


@dataclass
class ArchiveClient:
    """One archive, addressed by its replay prefix: captures are at
    PREFIX/TIMESTAMPid_/URL. Its index is at PREFIX/cdx (pywb), or, for a prefix ending in
    /web (the Internet Archive's layout), at /cdx/search/cdx beside it."""

    archive: str
    settings: FetchSettings
    budget: int = DEFAULT_BUDGET
    delay: float = DEFAULT_DELAY
    requests: int = 0
    bytes: int = 0
    _robots: dict[str, RobotFileParser] = field(default_factory=dict)
    _last: float = 0.0

    def __post_init__(self) -> None:
        self.archive = self.archive.rstrip("/")
        self._session = requests.Session()
        self._session.headers["User-Agent"] = self.settings.agent

    @property
    def index(self) -> str:
        if self.archive.endswith("/web"):
            return f"{self.archive.removesuffix('/web')}/cdx/search/cdx"
        return f"{self.archive}/cdx"

    def raw_url(self, capture: Capture) -> str:
        return f"{self.archive}/{capture.timestamp}id_/{capture.url}"

    def captures(self, url: str, since: str | None, until: str | None) -> list[Capture]:
        """The captures of `url` between two days (YYYY-MM-DD, inclusive), oldest first,
        a run of identical bodies collapsed to its first."""
        params = {"url": url, "output": "json"}
        if since:
            params["from"] = since.replace("-", "")
        if until:
            params["to"] = until.replace("-", "") + "235959"
        answer = self.get(self.index, params)
        if answer.status != 200:
            raise ArchiveTrouble(
                f"the capture index {self.index} answered HTTP {answer.status}: check the "
                "--archive address (a pywb collection, or https://web.archive.org/web)"
            )
        where = f"{self.index}?url={url}"
        found = parse(answer.body.decode("utf-8", errors="replace"), where)
        return collapse(found)

    def fetch(self, capture: Capture) -> Answer:
        return self.get(self.raw_url(capture))

    def get(self, url: str, params: dict[str, str] | None = None) -> Answer:
        """One polite GET (redirects are not followed: a capture of a redirect is news).
        Raises ArchiveTrouble when the archive cannot be asked now, CaptureError when the
        body came cut short."""
        self._allowed(url)
        tries = 0
        while True:
            response = self._request(url, params, tries)
            if response.status_code not in RETRY_STATUSES:
                break
            asked = retry_after(response.headers.get("Retry-After"))
            wait = retry_wait(self.settings, tries, asked)
            if wait is None:
                raise ArchiveTrouble(
                    f"{http_error(url, response.status_code, tries, asked=asked)}; nothing "
                    "stored is lost: run the backfill again later to go on"
                )
            time.sleep(wait)
            tries += 1
        return Answer(
            response.status_code,
            response.content,
            response.headers.get("Content-Type", ""),
            response.headers.get("Location", ""),
        )

    def _request(self, url: str, params: dict[str, str] | None, tries: int) -> Response:
        if self.requests >= self.budget:
            raise ArchiveTrouble(
                f"the request budget of this backfill ({self.budget}) is spent; run it again "
                "to go on where it stopped (or raise --budget)"
            )
        if (wait := self._last + self.delay - time.monotonic()) > 0:
            time.sleep(wait)
        self.requests += 1
        try:
            response = self._session.get(
                url, params=params, timeout=self.settings.timeout, allow_redirects=False,
                stream=True,
            )  # fmt: skip
            size = int(response.headers.get("Content-Length") or 0)
            if size > self.settings.max_body_bytes:
                response.close()
                raise CaptureError(too_large(url, self.settings))
            self.bytes += len(response.content)
            return response
        except requests.exceptions.ChunkedEncodingError:
            raise CaptureError(
                f"{url} was cut short (the connection ended before the whole body came); not "
                "stored, the next run tries again"
            ) from None
        except requests.exceptions.ConnectionError as error:
            if "refused" in str(error).lower():
                raise ArchiveTrouble(refused(url, tries)) from None
            raise ArchiveTrouble(failed(url, str(error), tries)) from None
        except requests.exceptions.Timeout:
            raise ArchiveTrouble(no_answer(url, self.settings, tries)) from None
        finally:
            self._last = time.monotonic()

    def _allowed(self, url: str) -> None:
        """robots.txt of the archive's host, read once (a missing one allows all)."""
        if not self.settings.obey_robots_txt:
            return
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        if host not in self._robots:
            rules = RobotFileParser()
            answer = self._request(f"{host}/robots.txt", None, 0)
            text = answer.text if answer.status_code == 200 else ""
            rules.parse(text.splitlines())
            self._robots[host] = rules
        if not self._robots[host].can_fetch(self.settings.agent, url):
            raise ArchiveTrouble(disallowed(url))
