"""The base of every source kind: the keys all sources share. A kind subclasses it with
`kind="..."`, declares its own keys as fields, and is then known to the config by name.

Kept free of Scrapy imports, so that loading the config stays fast."""

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True, kw_only=True)
class Source:
    """Something to fetch on a schedule and turn into series or news."""

    kinds: ClassVar[dict[str, type["Source"]]] = {}
    kind: ClassVar[str] = ""
    # Files too large to hold in memory are streamed to disk outside Scrapy and parsed from
    # there (csv, xlsx, pdf); such a kind may find its file on a landing page (`link`).
    streamed: ClassVar[bool] = False

    name: str = field(metadata={"toml": False})
    url: str = field(metadata={"help": "Where to fetch: the page, file, feed or listing URL."})
    title: str = field(default="", metadata={"help": "A human name shown in alerts and pages."})
    schedule: str = field(
        default="17 6 * * *",
        metadata={
            "help": "When to crawl: a cron line (minute hour day month weekday) in the "
            "configured timezone, or an interval such as '6h' or '30m'."
        },
    )
    enabled: bool = field(default=True, metadata={"help": "false keeps it configured but idle."})
    unverified: bool = field(
        default=False,
        metadata={
            "help": "true: its keys were never checked against a real copy of the page "
            "(`crossings check` says so; the first crawl shows what it found)."
        },
    )
    user_agent: str = field(
        default="",
        metadata={"help": "The User-Agent for this source only (default: [settings] one)."},
    )
    referer: str = field(
        default="",
        metadata={"help": "A Referer header to send (some USCIS endpoints want their page)."},
    )
    headers: dict[str, str] = field(
        default_factory=dict,
        metadata={"help": "More request headers, e.g. { Accept = 'text/csv' }."},
    )

    def __init_subclass__(cls, kind: str = "", **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if kind:
            cls.kind = kind
            Source.kinds[kind] = cls

    def request_headers(self, agent: str) -> dict[str, str]:
        """What this source sends with each request, given the default User-Agent."""
        sent = {"User-Agent": self.user_agent or agent}
        if self.referer:
            sent["Referer"] = self.referer
        sent.update(self.headers)
        return sent

    def problems(self) -> list[str]:
        """Checks across keys; a kind extends this."""
        found = []
        if not self.url.startswith(("http://", "https://")):
            found.append(f"url {self.url!r} must start with http:// or https://")
        for name, value in {**self.headers, "referer": self.referer}.items():
            if any(char in f"{name}{value}" for char in "\r\n"):
                found.append(f"header {name!r} must not contain a line break")
        return found
