"""Getting the body to inspect: a URL fetched as a source would fetch it (its User-Agent
and headers, robots.txt, the timeout, retries and size limit of `[settings]`, through the
streamed download path), or a local file read as it is."""

import mimetypes
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from scrapers.extract import Page
from scrapers.fetching import FetchSettings, disallowed
from scrapers.inspect.survey import InspectError
from scrapers.requesting import robots_parser, robots_url
from scrapers.streaming import FetchError, fetch_now
from storage.snapshots import BodyFile

IN_MEMORY = 20 * 1024 * 1024  # a page (HTML, JSON, feed) a crawl holds in memory: at most this
TYPES = {"text/html": "html", "application/xhtml+xml": "html", "text/csv": "csv",
         "application/pdf": "pdf", "application/json": "json",
         "application/rss+xml": "feed", "application/atom+xml": "feed",
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx"}  # fmt: skip
SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".pdf": "pdf", ".json": "json"}


@dataclass
class Fetcher:
    """Fetches pages for one inspection, politely: one request at a time, the configured
    delay between them; bodies kept in temporary files until `close`."""

    settings: FetchSettings
    headers: dict[str, str] = field(default_factory=dict)
    _files: list[BodyFile] = field(default_factory=list)
    _last: float = 0.0

    def page(self, url: str, link_text: str = "") -> tuple[Page, str]:
        """The body at `url` and the type its address or Content-Type says it is."""
        self._allowed(url)
        self._wait()
        try:
            streamed = fetch_now(url, self.settings, headers=self.headers)
        except FetchError as error:
            raise InspectError(f"{error}{_advice(str(error))}") from None
        finally:
            self._last = time.monotonic()
        body_file = streamed.body_file
        if body_file is None:
            raise InspectError(f"{url} answered {streamed.status} with no body")
        self._files.append(body_file)
        said = _said_type(url, streamed.content_type or "")
        if said in ("html", "json", "feed") and body_file.size > IN_MEMORY:
            raise InspectError(
                f"the page at {url} is {body_file.size / 1024 / 1024:.0f} MB, more than a page "
                f"crossings reads in memory ({IN_MEMORY // 1024 // 1024} MB): look for a data "
                "file (CSV, XLSX) linked from the site instead"
            )
        if said in ("html", "json", "feed"):
            with body_file.open() as raw:
                return Page(url, raw.read(), content_type=streamed.content_type or "",
                            link_text=link_text), said  # fmt: skip
        return Page(url, opener=body_file.open, content_type=streamed.content_type or "",
                    link_text=link_text), said  # fmt: skip

    def close(self) -> None:
        for body_file in self._files:
            body_file.discard()

    def _wait(self) -> None:
        if self._last:
            time.sleep(max(0.0, self._last + self.settings.download_delay - time.monotonic()))

    def _allowed(self, url: str) -> None:
        """robots.txt, read as a crawl reads it (unreadable: allowed)."""
        if not self.settings.obey_robots_txt:
            return
        agent = self.headers.get("User-Agent", self.settings.agent)
        try:
            answer = requests.get(
                robots_url(url),
                headers={**self.headers, "User-Agent": agent},
                timeout=self.settings.timeout,
            )
        except requests.RequestException:
            return
        finally:
            self._last = time.monotonic()
        if answer.status_code == 200 and not robots_parser(answer.content).can_fetch(url, agent):
            raise InspectError(
                f"{disallowed(url)}; crossings obeys it (obey_robots_txt in [settings])"
            )


def local_page(path: Path) -> tuple[Page, str]:
    """A file on this machine, read as a stored body is (its name says its type)."""
    try:
        body = path.read_bytes()
    except OSError as error:
        raise InspectError(f"cannot read {path}: {error.strerror}") from None
    said = SUFFIXES.get(path.suffix.lower(), "")
    guessed, _ = mimetypes.guess_type(path.name)
    return Page(path.resolve().as_uri(), body, content_type=guessed or ""), said


def _said_type(url: str, content_type: str) -> str:
    said = TYPES.get(content_type.split(";")[0].strip().lower(), "")
    return said or SUFFIXES.get(Path(urlsplit(url).path).suffix.lower(), "")


def _advice(reason: str) -> str:
    if "HTTP 403" in reason or "HTTP 401" in reason:
        return "; the site refuses this agent: try --user-agent or --header (e.g. a Referer)"
    if any(words in reason for words in ("cannot find the host", "refused", "no answer")):
        return "; check the address and this machine's network"
    return ""
