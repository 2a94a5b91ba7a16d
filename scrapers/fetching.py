"""How to fetch: the politeness and robustness settings every request follows, and the
Scrapy settings made from them. `jobs` builds `FetchSettings` from the config's
[settings] table; Scrapy is not imported here."""

import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

MB = 1024 * 1024
MAX_RETRY_AFTER = 120.0  # seconds; a server asking for longer makes the run fail now
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 522, 524})


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str = "crossings/0.1"
    contact: str = ""
    download_delay: float = 1.0
    concurrent_requests: int = 16
    timeout: float = 30.0
    retries: int = 3
    retry_backoff: float = 0.5
    max_body_mb: int = 100
    obey_robots_txt: bool = True
    log_level: str = "WARNING"

    @property
    def agent(self) -> str:
        """The User-Agent header: the configured agent, with the contact appended."""
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
            "RETRY_ENABLED": False,  # replaced by RetryAfterMiddleware (honours Retry-After)
            "CROSSINGS_RETRIES": self.retries,
            "CROSSINGS_RETRY_BACKOFF": self.retry_backoff,
            "DOWNLOADER_MIDDLEWARES": {
                "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
                "scrapers.robots.RobotsTxtMiddleware": 100,
                "scrapers.middlewares.CountingMiddleware": 950,
                "scrapers.middlewares.RetryAfterMiddleware": 550,
            },
            "ITEM_PIPELINES": {"scrapers.pipelines.StorePipeline": 100},
            "EXTENSIONS": {"scrapy.extensions.logstats.LogStats": None},
            "REMOTE_CONTROL_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "COOKIES_ENABLED": False,
            "HTTPCACHE_ENABLED": False,
            "LOG_LEVEL": self.log_level,
            "LOG_INSTALL_ROOT_HANDLER": True,
            "LOG_FORMAT": "%(levelname)s %(name)s: %(message)s",
        }


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
        return f"robots.txt of {urlsplit(url).netloc} disallows {url}"
    if "redirections" in message:
        chain = [*redirects, url]
        shown = " -> ".join(dict.fromkeys(chain)) + (" -> …" if len(set(chain)) > 1 else "")
        if len(set(chain)) < len(chain):
            return f"{chain[0]} redirects in a loop ({shown})"
        return f"{chain[0]} redirects too many times ({len(chain) - 1}; last to {url})"
    if "decompressed" in message:
        packed = re.search(r"\((\d+) B compressed", message)
        size = f" (a {int(packed[1]):,}-byte compressed body)" if packed else ""
        return (
            f"{url} is larger than max_body_mb = {max_body_mb} MB once decompressed{size}: "
            "a compression bomb, or raise max_body_mb in [settings] if that is expected"
        )
    return f"fetching {url} was dropped: {message}"


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
