"""The config file's `[settings]` table and the reading of the file itself (where it is,
TOML in UTF-8, every problem a `ConfigError`). Apart from `jobs.config`, which builds the
rest of the file and imports every source, rule and channel kind for it: a command that
only reads stored data needs the database and the time zone, and reading them here costs
a fraction of its start-up (bench/README.md, section 9)."""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerts.channel import RETRY_FOR
from core.checked import HostPort, HttpUrl, out_of_range
from core.errors import CrossingsError
from jobs.typed import Problem, build, hints_of, keys_of, plain
from scrapers.fetching import FetchSettings

DEFAULT_PATH = Path("crossings.toml")
ENV_PATH = "CROSSINGS_CONFIG"
ENV_SETTING_PREFIX = "CROSSINGS_"
MAX_NESTING = 20  # the deepest key crossings reads is 4 tables down

# [settings] numbers and the values that make sense (beyond them: a typo, or a crawl
# that never ends).
RANGES = (
    ("shutdown_grace", 0, 3600),
    ("max_concurrent_crawls", 1, 64),
    ("polling_budget", 1, 10_000_000),
    ("retention_days", 0, 36_500),
)


@dataclass(frozen=True, kw_only=True)
class Settings(FetchSettings):
    """The `[settings]` table: what applies to every source and the daemon (the fetch
    keys are declared in `scrapers.fetching.FetchSettings`)."""

    database: Path = field(
        default=Path("data/crossings.db"),
        metadata={"help": "The SQLite file; relative paths are relative to the config file."},
    )
    timezone: str = field(
        default="UTC", metadata={"help": "IANA zone for cron schedules, e.g. America/New_York."}
    )
    max_concurrent_crawls: int = field(
        default=2, metadata={"help": "Crawl child processes the daemon runs at once."}
    )
    shutdown_grace: float = field(
        default=20.0,
        metadata={
            "help": "Seconds running crawls get to finish when the daemon is asked to stop "
            "(then they are cut off, marked interrupted, and caught up at the next start)."
        },
    )
    listen: HostPort = field(
        default="127.0.0.1:8080",
        metadata={"help": "HOST:PORT of the health, metrics and web endpoint."},
    )
    web_password_env: str = field(
        default="",
        metadata={
            "help": "The NAME of an environment variable holding a password the web pages "
            "ask for (any user name, or 'Authorization: Bearer ...'); /healthz stays open. "
            "Set it when `listen` reaches beyond this machine."
        },
    )
    templates: Path | None = field(
        default=None, metadata={"help": "A directory whose templates override the defaults."}
    )
    polling_budget: int = field(
        default=300,
        metadata={
            "help": "Polls a month (each a conditional GET) that release-aware polling may "
            "spend on one site, shared by its sources with schedule = 'auto' or `releases`."
        },
    )
    retention_days: int = field(
        default=0,
        metadata={"help": "Prune fetch records and unused bodies older than this; 0 keeps all."},
    )
    retry_alerts_for: timedelta = field(
        default=RETRY_FOR,
        metadata={
            "help": "How long an alert that cannot be delivered is retried (e.g. '2d'); then "
            "it is marked dead and the other channels are told."
        },
    )
    runner: Literal["local", "scrapyd"] = field(
        default="local",
        metadata={
            "help": 'Where crawls run: "local" (child processes here) or "scrapyd" (the '
            "Scrapyd nodes in scrapyd_nodes; see docs/scaling.md)."
        },
    )
    scrapyd_nodes: tuple[HttpUrl, ...] = field(
        default=(),
        metadata={"help": 'Scrapyd node URLs, e.g. ["http://10.0.0.5:6800"] (runner = "scrapyd").'},
    )
    scrapyd_username_env: str = field(
        default="SCRAPYD_USERNAME",
        metadata={"help": "The environment variable holding the nodes' basic-auth username."},
    )
    scrapyd_password_env: str = field(
        default="SCRAPYD_PASSWORD",
        metadata={"help": "The environment variable holding the nodes' basic-auth password."},
    )

    def problems(self) -> list[str]:
        found = super().problems()
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            found.append(f"timezone {self.timezone!r} is not an IANA zone (e.g. America/Chicago)")
        found += out_of_range(self, RANGES)
        if self.retry_alerts_for < timedelta(hours=1):
            found.append("retry_alerts_for must be at least '1h' (an outage often lasts longer)")
        if self.runner == "scrapyd" and not self.scrapyd_nodes:
            found.append('runner = "scrapyd" needs scrapyd_nodes, e.g. ["http://127.0.0.1:6800"]')
        return found

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class ConfigFile:
    """A config file's path and its [settings]: what a command reading stored data needs
    (the database, the zone), and the base of the whole `jobs.config.Config`."""

    path: Path
    settings: Settings

    @property
    def database(self) -> Path:
        """The database path, resolved against the config file's folder."""
        path = self.settings.database.expanduser()
        return path if path.is_absolute() else self.path.parent / path

    @property
    def templates(self) -> Path | None:
        templates = self.settings.templates
        if templates is None or templates.is_absolute():
            return templates
        return self.path.parent / templates


class ConfigError(CrossingsError):
    """The config file cannot be used; `problems` lists every mistake found."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{path}: {count}\n{lines}")


def locate(path: str | Path | None = None) -> Path:
    """The config path: the argument, else $CROSSINGS_CONFIG, else ./crossings.toml."""
    return Path(path or os.environ.get(ENV_PATH) or DEFAULT_PATH)


def read_document(path: Path) -> dict[str, Any]:
    """The file at `path` as a TOML document; ConfigError when it cannot be read as one."""
    return _document(path, _read(path))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        hint = "create one with `crossings init`, or pass --config / set CROSSINGS_CONFIG"
        raise ConfigError(path, [Problem(str(path), "file not found", hint)]) from None
    except OSError as error:
        raise ConfigError(path, [Problem(str(path), f"cannot read: {error.strerror}")]) from None


def _document(path: Path, raw: bytes) -> dict[str, Any]:
    """The TOML document in `raw`; ConfigError for what is not UTF-8 TOML (UTF-16, a
    Latin-1 file, a byte-order mark, tables nested beyond reason)."""

    def refuse(message: str, hint: str) -> ConfigError:
        return ConfigError(path, [Problem(str(path), message, hint)])

    save_as = (
        "save it as UTF-8 without a byte-order mark (most editors: 'UTF-8', not 'UTF-8 with BOM')"
    )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise refuse("the file is UTF-16, not UTF-8", save_as)
    if raw.startswith(b"\xef\xbb\xbf"):
        raise refuse("the file starts with a UTF-8 byte-order mark (BOM)", save_as)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise refuse(
            f"not UTF-8 text: byte {raw[error.start]:#04x} on line {line} cannot be decoded",
            "save it as UTF-8",
        ) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise refuse(f"not valid TOML: {error}", "check quotes and brackets") from None
    except RecursionError:
        raise refuse("tables or lists are nested too deeply to read", "flatten them") from None
    if _depth(document) > MAX_NESTING:
        raise refuse(
            f"tables or lists are nested more than {MAX_NESTING} deep", "no key needs that"
        )
    return document


def _depth(value: Any) -> int:
    """How deeply tables and lists nest (iteratively: a hostile file must not recurse)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def settings_of(document: Mapping[str, Any], problems: list[Problem]) -> Settings:
    """The document's [settings], with the environment's overrides; its mistakes are
    appended to `problems` (then the defaults stand in, so the rest can still be checked)."""
    table = _with_environment(document.get("settings", {}))
    return build(Settings, table, "settings", problems) or Settings()


def load_settings(path: str | Path | None = None) -> ConfigFile:
    """The config file's [settings] alone, checked as `jobs.config.load` checks them (a
    mistake there is a ConfigError); the other tables are neither built nor checked."""
    path = locate(path)
    problems: list[Problem] = []
    settings = settings_of(read_document(path), problems)
    if problems:
        raise ConfigError(path, problems)
    return ConfigFile(path, settings)


def _with_environment(table: Any) -> Any:
    """Containers configure by environment: CROSSINGS_<KEY> (e.g. CROSSINGS_LISTEN=
    0.0.0.0:8080, CROSSINGS_DATABASE=/data/crossings.db) wins over [settings] KEY."""
    if not isinstance(table, dict):
        return table
    merged = dict(table)
    hints = hints_of(Settings)
    for key in keys_of(Settings):
        raw = os.environ.get(ENV_SETTING_PREFIX + key.name.upper())
        if raw is None:
            continue
        if plain(hints[key.name]) in (str, Path, Path | None):
            merged[key.name] = raw
        else:  # numbers and booleans are written as in TOML: 2, 0.5, true
            try:
                merged[key.name] = tomllib.loads(f"value = {raw}")["value"]
            except tomllib.TOMLDecodeError:
                merged[key.name] = raw
    return merged
