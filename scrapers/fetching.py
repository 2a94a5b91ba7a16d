"""How to fetch: the politeness and robustness settings every request follows, the Scrapy
settings made from them, and the fetch policy both ways of fetching share (Scrapy for
pages, `scrapers.streaming` for large files): when to retry and how long to wait, the
words a failed fetch is explained with. Declared once here: the
config's [settings] table (`jobs.settings.Settings`) extends `FetchSettings`, so its keys,
defaults and help are these. Scrapy is not imported here."""

import email.utils
import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from core.checked import out_of_range

MB = 1024 * 1024
MAX_RETRY_AFTER = 120.0  # seconds; a server asking for longer makes the run fail now
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 522, 524})
PROJECT_URL = "https://github.com/crossings-project/crossings"
MAX_REDIRECTS = 20  # Scrapy's default, kept by both ways of fetching a page
# What every request sends besides its User-Agent (Scrapy's defaults, kept by both ways)
DEFAULT_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
}


@functools.cache
def default_agent(contact: str = "") -> str:
    """A User-Agent that sites behind bot filters accept (cbp.gov and ohss.dhs.gov answer
    403 to many bare agents) and that still says who is asking and how to reach them.
    Cached: every request asks, and reading the package metadata costs ~0.4 ms."""
    from importlib import metadata  # here: reading the config (every command) stays light

    try:
        version = metadata.version("crossings")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"Mozilla/5.0 (compatible; crossings/{version}; +{contact or PROJECT_URL})"


# The values that make sense (beyond them: a typo, or a crawl that never ends).
FETCH_RANGES = (
    ("download_delay", 0, 3600),
    ("timeout", 0, 3600),
    ("retries", 0, 20),
    ("concurrent_requests", 1, 1000),
    ("max_body_mb", 1, 100_000),
    ("parse_memory_mb", 512, 1_000_000),
    ("parse_cpu_seconds", 10, 7200),
    ("max_pdf_pages", 1, 1_000_000),
)


# The Scrapy components a crawl of configured sources uses, replacing Scrapy's *_BASE
# lists. Left out: offsite, HTTP auth, Scrapy's retry (RetryAfterMiddleware instead),
# cookies (off), stats, HTTP cache (snapshots are the cache), URL length, depth,
# meta-copy, and every extension but AutoThrottle (when there is a delay). Merely
# switching them off is not enough: Scrapy imports every listed component's module to
# read its settings (RemoteControl alone imports aiohttp, ~8-12% of an unchanged pass).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.downloadtimeout.DownloadTimeoutMiddleware": 350,
    "scrapy.downloadermiddlewares.defaultheaders.DefaultHeadersMiddleware": 400,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": 500,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": 590,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": 750,  # proxies from env
    # crossings' own
    "scrapers.robots.RobotsTxtMiddleware": 100,
    "scrapers.middlewares.RetryAfterMiddleware": 550,
    "scrapers.middlewares.CountingMiddleware": 950,
    # last, so that it gives the site's turn back before a retry or redirect asks again
    "scrapers.middlewares.PacingMiddleware": 990,
}
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.start.StartSpiderMiddleware": 25,
    "scrapy.spidermiddlewares.httperror.HttpErrorMiddleware": 50,
    "scrapy.spidermiddlewares.referer.RefererMiddleware": 700,  # redirects expect it
}


@dataclass(frozen=True, kw_only=True)
class FetchSettings:
    """The keys of [settings] that say how every request is made."""

    user_agent: str = field(
        default="",
        metadata={
            "help": "Sent with every request (a source may set its own). Default: "
            "'Mozilla/5.0 (compatible; crossings/VERSION; +CONTACT)', which sites behind "
            "bot filters accept."
        },
    )
    contact: str = field(
        default="",
        metadata={"help": "An e-mail or URL where site operators can reach you (added to UA)."},
    )
    download_delay: float = field(
        default=1.0, metadata={"help": "Seconds between requests to the same site."}
    )
    concurrent_requests: int = field(
        default=16, metadata={"help": "Requests in flight at once, across all sites."}
    )
    timeout: float = field(default=30.0, metadata={"help": "Seconds before a request gives up."})
    retries: int = field(default=3, metadata={"help": "Retries on 429, 5xx and timeouts."})
    retry_backoff: float = field(
        default=0.5, metadata={"toml": False}
    )  # seconds before the first retry, doubling after (unless Retry-After says otherwise)
    max_body_mb: int = field(
        default=100, metadata={"help": "Refuse bodies larger than this many megabytes."}
    )
    obey_robots_txt: bool = field(default=True, metadata={"help": "Respect robots.txt."})
    parse_memory_mb: int = field(
        default=2048,
        metadata={
            "help": "Memory a downloaded workbook or PDF may take to read, in megabytes: it "
            "is read in a process of its own capped at this; its unpacked parts may be a "
            "quarter of it, a sheet one cell per 256 bytes of it."
        },
    )
    parse_cpu_seconds: int = field(
        default=300, metadata={"help": "CPU seconds a downloaded workbook or PDF may take to read."}
    )
    max_pdf_pages: int = field(
        default=1000, metadata={"help": "Pages a PDF may have; a longer one is not read."}
    )

    def problems(self) -> list[str]:
        found = out_of_range(self, FETCH_RANGES)
        if self.timeout == 0:
            found.append("timeout must be more than 0 seconds")
        return found

    @property
    def agent(self) -> str:
        """The User-Agent header: the configured agent, with the contact appended."""
        if not self.user_agent:
            return default_agent(self.contact)
        if self.contact and self.contact not in self.user_agent:
            return f"{self.user_agent} ({self.contact})"
        return self.user_agent

    @property
    def max_body_bytes(self) -> int:
        return self.max_body_mb * MB

    def scrapy_settings(self) -> dict:
        """One spider for all sources; politeness per site through Scrapy's download slots
        (one per domain). With a delay, AutoThrottle adapts it to the site's latency and one
        request per site is in flight; without one (local benchmarks, a mirror you own),
        requests to a site run concurrently."""
        polite = self.download_delay > 0
        return {
            "BOT_NAME": "crossings",
            "USER_AGENT": self.agent,
            "ROBOTSTXT_OBEY": self.obey_robots_txt,
            "DOWNLOAD_DELAY": self.download_delay,
            "DOWNLOAD_DELAY_JITTER": 0.5 if polite else 0.0,
            "AUTOTHROTTLE_ENABLED": polite,
            "AUTOTHROTTLE_START_DELAY": self.download_delay,
            "AUTOTHROTTLE_MAX_DELAY": max(60.0, self.download_delay),
            "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
            "CONCURRENT_REQUESTS": self.concurrent_requests,
            # A response yields one or two items, stored in order; Scrapy's default (100)
            # starts 100 asyncio tasks per response for nothing.
            "CONCURRENT_ITEMS": 1,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 1 if polite else self.concurrent_requests,
            "DOWNLOAD_TIMEOUT": self.timeout,
            "DOWNLOAD_MAXSIZE": self.max_body_bytes,
            "DOWNLOAD_WARNSIZE": 0,
            "DEFAULT_REQUEST_HEADERS": DEFAULT_HEADERS,
            "REDIRECT_MAX_TIMES": MAX_REDIRECTS,
            "RETRY_ENABLED": False,  # replaced by RetryAfterMiddleware (honours Retry-After)
            "CROSSINGS_FETCH": self,  # the retry policy reads it (RetryAfterMiddleware)
            "DOWNLOADER_MIDDLEWARES_BASE": DOWNLOADER_MIDDLEWARES,
            "SPIDER_MIDDLEWARES_BASE": SPIDER_MIDDLEWARES,
            "ITEM_PIPELINES": {"scrapers.pipelines.StorePipeline": 100},
            "EXTENSIONS_BASE": ({"scrapy.extensions.throttle.AutoThrottle": 0} if polite else {}),
            "REMOTE_CONTROL_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "COOKIES_ENABLED": False,
            "HTTPCACHE_ENABLED": False,
            # Scrapy re-reads a callback's source (ast.parse) whenever its weak cache lost
            # the bound method: 4% of a 10,000-source crawl's start. Ours return nothing.
            "WARN_ON_GENERATOR_RETURN_VALUE": False,
            # Logging is the caller's: Scrapy's records go to the handlers `jobs.logs` set.
            "LOG_INSTALL_ROOT_HANDLER": False,
            # Scrapy's start-up line of library versions forks `uname -p` from the whole
            # crawl process (platform.platform(); the sampled tree doubles for an instant)
            # and reads eight packages' metadata: ~25 ms for a line nobody reads.
            "LOG_VERSIONS": [],
        }


def retry_wait(settings: FetchSettings, tries: int, asked: float | None) -> float | None:
    """Seconds to wait before retrying a request that failed `tries` times so far (after
    a 429/5xx, `asked` is its Retry-After); None: give up, because the retries are spent
    or the server asks for longer than MAX_RETRY_AFTER."""
    if tries >= settings.retries or (asked is not None and asked > MAX_RETRY_AFTER):
        return None
    return asked if asked is not None else settings.retry_backoff * 2**tries


# -- why a fetch failed, in the same words whichever way it was fetched -----------------


def disallowed(url: str) -> str:
    return f"robots.txt of {urlsplit(url).netloc} disallows {url}"


def no_answer(url: str, settings: FetchSettings, tries: int) -> str:
    return f"no answer from {url} within {settings.timeout:g} s{after_retries(tries)}"


def unresolved(url: str, tries: int) -> str:
    return f"cannot find the host {urlsplit(url).hostname} (DNS){after_retries(tries)}"


def refused(url: str, tries: int) -> str:
    return f"{urlsplit(url).netloc} refused the connection{after_retries(tries)}"


def failed(url: str, message: str, tries: int) -> str:
    """Any other trouble, in the words of the library that met it."""
    return f"fetching {url} failed: {message}{after_retries(tries)}"


def http_error(url: str, status: int, tries: int, *, asked: float | None = None) -> str:
    """`asked`: a Retry-After longer than crossings waits, said with the time it asked."""
    waited = came_back_after(asked) if asked is not None and asked > MAX_RETRY_AFTER else ""
    return f"{url} answered HTTP {status}{waited}{after_retries(tries)}"


def too_large(url: str, settings: FetchSettings) -> str:
    return (
        f"{url} is larger than max_body_mb = {settings.max_body_mb} MB; raise max_body_mb in "
        "[settings] if it is expected to be that large"
    )


def too_slow(url: str, settings: FetchSettings) -> str:
    return (
        f"{url} did not finish downloading within {settings.timeout:g} s (`timeout` in "
        "[settings] limits a whole download; raise it for a large file on a slow site)"
    )


def came_back_after(asked: float) -> str:
    """What a failure reason adds when the server asked for longer than crossings waits."""
    if asked >= 3600:
        shown = f"{asked / 3600:.3g} h"
    elif asked >= 60:
        shown = f"{asked / 60:.3g} min"
    else:
        shown = f"{asked:.0f} s"
    return (
        f" and asked to come back after {asked:.0f} s ({shown}); crossings waits at most "
        f"{MAX_RETRY_AFTER:.0f} s within a crawl, so the next run tries again"
    )


def dropped(url: str, message: str, redirects: list[str], max_body_mb: int) -> str:
    """Why Scrapy dropped a request (IgnoreRequest): its message names the middleware
    that did, and each gets its own words."""
    if "robots.txt" in message:
        return disallowed(url)
    if "redirections" in message:
        chain = [*redirects, url]
        shown = " -> ".join(dict.fromkeys(chain)) + (" -> …" if len(set(chain)) > 1 else "")
        if len(set(chain)) < len(chain):
            return f"{chain[0]} redirects in a loop ({shown})"
        return f"{chain[0]} redirects too many times ({len(chain) - 1}; last to {url})"
    if "decompressed" in message:
        packed = re.search(r"\((\d+) B compressed", message)
        return too_large_decompressed(url, max_body_mb, int(packed[1]) if packed else None)
    return f"fetching {url} was dropped: {message}"


def too_large_decompressed(url: str, max_body_mb: int, packed: int | None) -> str:
    size = f" (a {packed:,}-byte compressed body)" if packed is not None else ""
    return (
        f"{url} is larger than max_body_mb = {max_body_mb} MB once decompressed{size}: "
        "a compression bomb, or raise max_body_mb in [settings] if that is expected"
    )


def after_retries(tries: int) -> str:
    """' (after 2 retries)' for a failure reason; nothing when it was the first try."""
    return f" (after {tries} {'retry' if tries == 1 else 'retries'})" if tries else ""


def retry_after(value: bytes | str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds, or an HTTP date."""
    if not value:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
