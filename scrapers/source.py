"""The base of every source kind: the keys all sources share. A kind subclasses it with
`kind="..."`, declares its own keys as fields, and is then known to the config by name.

Kept free of Scrapy imports, so that loading the config stays fast."""

from dataclasses import dataclass, field
from typing import ClassVar, Literal


@dataclass(frozen=True, kw_only=True)
class Source:
    """Something to fetch on a schedule and turn into series or news."""

    kinds: ClassVar[dict[str, type["Source"]]] = {}
    kind: ClassVar[str] = ""

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
    duplicates: Literal["error", "same", "sum", "mean", "min", "max"] = field(
        default="error",
        metadata={
            "help": "When a page gives one period twice: error (the run is broken, naming "
            "the rows), same (identical repeats only), or combine them: sum, mean, min, max."
        },
    )

    def __init_subclass__(cls, kind: str = "", **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if kind:
            cls.kind = kind
            Source.kinds[kind] = cls

    def problems(self) -> list[str]:
        """Checks across keys; a kind extends this."""
        if not self.url.startswith(("http://", "https://")):
            return [f"url {self.url!r} must start with http:// or https://"]
        return []
