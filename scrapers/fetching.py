"""How to fetch: the politeness and robustness settings every request follows, and the
Scrapy settings made from them. `jobs` builds `FetchSettings` from the config's
[settings] table; Scrapy is not imported here."""

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata

MB = 1024 * 1024
MAX_RETRY_AFTER = 120.0  # seconds; a server asking for longer makes the run fail now
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 522, 524})
PROJECT_URL = "https://github.com/crossings-project/crossings"


def default_agent(contact: str = "") -> str:
    """A User-Agent that sites behind bot filters accept (cbp.gov and ohss.dhs.gov answer
    403 to many bare agents) and that still says who is asking and how to reach them."""
    try:
        version = metadata.version("crossings")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"Mozilla/5.0 (compatible; crossings/{version}; +{contact or PROJECT_URL})"


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str = ""  # empty: default_agent(contact)
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
