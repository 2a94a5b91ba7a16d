"""The config file: one TOML document (`crossings.toml`) read into typed, frozen objects.

Each part declares its own keys where it lives — source kinds in `scrapers/`, rule and
channel kinds and digests in `alerts/` — and this module hands each table to the class
its `kind` names; `jobs.settings` reads the file and its [settings]. Every problem in the
file is reported at once, each with its location and a hint (`ConfigError`)."""

import dataclasses
import difflib
import fnmatch
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from alerts.channel import Channel
from alerts.digest import Digest
from alerts.kinds import CHANNEL_KINDS, RULE_KINDS
from alerts.rule import Rule
from alerts.rules.late import LateRelease
from jobs.scheduling.polling import hint_of, is_auto
from jobs.scheduling.schedule import check_schedule
from jobs.settings import (
    ENV_PATH,
    ENV_SETTING_PREFIX,
    ConfigError,
    ConfigFile,
    Settings,
    locate,
    read_document,
    settings_of,
)
from jobs.typed import Problem, build, references, unknown_kind
from scrapers.kinds import SOURCE_KINDS
from scrapers.source import Source
from series.derived import DerivedMetric, order, unit_problems

# The names other modules have long imported from here: [settings] and the file's reading
# live in jobs.settings, which imports no kind.
__all__ = [
    "ENV_PATH", "ENV_SETTING_PREFIX", "Config", "ConfigError", "ConfigFile", "Settings",
    "declared_metrics", "load", "load_sources", "locate", "metric_problems", "parse",
    "rule_from", "unproduced_metrics",
]  # fmt: skip

SHOWN_METRICS = 12  # in a "no source publishes" problem: enough to spot the right one
SECTIONS = ("settings", "sources", "metrics", "rules", "channels", "digests")
NOTHING: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Config(ConfigFile):
    """The whole file: [settings] (`ConfigFile`) and every source, rule, channel, digest
    and derived metric, built and cross-checked."""

    sources: Mapping[str, Source]
    rules: Mapping[str, Rule]
    channels: Mapping[str, Channel]
    digests: Mapping[str, Digest]
    metrics: Mapping[str, DerivedMetric] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(
        cls,
        path: Path,
        settings: Settings,
        sources: Mapping[str, Source],
        *,
        rules: Mapping[str, Rule] = NOTHING,
        channels: Mapping[str, Channel] = NOTHING,
        digests: Mapping[str, Digest] = NOTHING,
        metrics: Mapping[str, DerivedMetric] = NOTHING,
    ) -> "Config":
        """A config of these parts, each read-only: a dict is wrapped, any other mapping
        (the packed sources of `jobs.daemon.config`) kept as it is. A part not given is empty (a
        crawl child needs [settings] and its sources alone)."""

        def frozen(part: Mapping[str, Any]) -> Mapping[str, Any]:
            return MappingProxyType(part) if isinstance(part, dict) else part

        return cls(path=path, settings=settings, sources=frozen(sources), rules=frozen(rules),
                   channels=frozen(channels), digests=frozen(digests),
                   metrics=frozen(metrics))  # fmt: skip


def load(path: str | Path | None = None, *, schedules: bool = True) -> Config:
    """Read and validate the config file; raises ConfigError listing every problem.
    `schedules=False` leaves cron lines unchecked, for commands that read stored data and
    never schedule: checking them imports APScheduler, a third of such a command's start-up
    (bench/README.md, section 9); `check` and the daemon check them."""
    path = locate(path)
    return parse(read_document(path), path, schedules=schedules)


def load_sources(path: str | Path, names: Iterable[str]) -> Config:
    """What a crawl child needs and no more: [settings] and the named sources, nothing
    else built or cross-checked. Whoever names the sources (the daemon, `crossings crawl`)
    validated the whole file; building 10,000 sources and every rule cost a child that
    crawls one of them seconds (bench/README.md). A problem in these is a ConfigError;
    a name the file lacks is left out (the caller says which)."""
    path = locate(path)
    read = read_document(path)
    problems: list[Problem] = []
    settings = settings_of(read, problems)
    tables = _tables(read, "sources", problems)
    wanted = {"sources": {name: tables[name] for name in names if name in tables}}
    sources = _kinds(wanted, "sources", "source", SOURCE_KINDS, problems)
    if problems:
        raise ConfigError(path, problems)
    return Config.of(path, settings, sources)


def parse(document: Mapping[str, Any], path: Path, *, schedules: bool = True) -> Config:
    """Validate a parsed TOML document; raises ConfigError listing every problem."""
    problems: list[Problem] = []
    for section in document:
        if section not in SECTIONS:
            problems.append(
                Problem(str(path), f"unknown section [{section}]", f"known: {', '.join(SECTIONS)}")
            )
    settings = settings_of(document, problems)
    sources = _kinds(document, "sources", "source", SOURCE_KINDS, problems)
    rules = _kinds(document, "rules", "rule", RULE_KINDS, problems)
    channels = _kinds(document, "channels", "channel", CHANNEL_KINDS, problems)
    digests = {
        name: digest
        for name, table in _tables(document, "digests", problems).items()
        if (digest := build(Digest, table, f'digest "{name}"', problems, name=name))
    }
    metrics = {
        name: metric
        for name, table in _tables(document, "metrics", problems).items()
        if (metric := build(DerivedMetric, table, f'metric "{name}"', problems, name=name))
    }
    try:
        order(metrics)
    except ValueError as error:
        problems.append(Problem("[metrics]", str(error), "one of them must read stored data"))
    if schedules:
        _check_schedules(settings, sources, digests, problems)
    _check_sources(sources, problems)
    _check_references(
        {"source": sources, "rule": rules, "channel": channels, "digest": digests}, problems
    )
    rules = _with_release_hints(rules, sources, settings)
    if problems:
        raise ConfigError(path, problems)
    return Config.of(
        path, settings, sources, rules=rules, channels=channels, digests=digests, metrics=metrics
    )


def _tables(document: Mapping[str, Any], section: str, problems: list[Problem]) -> dict:
    tables = document.get(section, {})
    if not isinstance(tables, dict):
        problems.append(Problem(f"[{section}]", "must be a table of named tables"))
        return {}
    return tables


def _kinds(
    document: Mapping[str, Any],
    section: str,
    noun: str,
    known: Mapping[str, type],
    problems: list[Problem],
) -> dict[str, Any]:
    built = {}
    for name, table in _tables(document, section, problems).items():
        where = f'{noun} "{name}"'
        if not isinstance(table, dict):
            problems.append(Problem(where, f"expected a table [{section}.{name}]"))
            continue
        kind = table.get("kind")
        cls = known.get(kind) if isinstance(kind, str) else None
        if cls is None:
            message, hint = unknown_kind(kind, known)
            problems.append(Problem(where, message, hint))
            continue
        body = {key: value for key, value in table.items() if key != "kind"}
        if (instance := build(cls, body, where, problems, name=name)) is not None:
            built[name] = instance
    return built


def _with_release_hints(
    rules: dict[str, Rule], sources: Mapping[str, Source], settings: Settings
) -> dict[str, Rule]:
    """A late-release rule judges by its source's `releases` hint, in the configured zone."""
    return {
        name: dataclasses.replace(
            rule, releases=sources[rule.source].releases, timezone=settings.timezone
        )
        if isinstance(rule, LateRelease) and rule.source in sources
        else rule
        for name, rule in rules.items()
    }


def _check_schedules(
    settings: Settings,
    sources: Mapping[str, Source],
    digests: Mapping[str, Digest],
    problems: list[Problem],
) -> None:
    try:
        zone = settings.zone
    except (ZoneInfoNotFoundError, ValueError):
        return
    for noun, items in (("source", sources), ("digest", digests)):
        for name, item in items.items():
            if isinstance(item, Source) and is_auto(item):
                continue
            try:
                check_schedule(item.schedule, zone)
            except ValueError as error:
                problems.append(Problem(f'{noun} "{name}"', str(error)))


def _check_sources(sources: Mapping[str, Source], problems: list[Problem]) -> None:
    """Release hints and budgets: cheap, so checked for every command."""
    for name, source in sources.items():
        try:
            hint_of(source)
        except ValueError as error:
            problems.append(Problem(f'source "{name}"', str(error)))
        if source.budget < 0:
            problems.append(Problem(f'source "{name}"', "budget must not be negative"))


def _check_references(tables: Mapping[str, Mapping[str, Any]], problems: list[Problem]) -> None:
    """Every key declared as naming a source or channel must name one in this file."""
    for noun in ("source", "rule", "channel", "digest"):
        for name, item in tables[noun].items():
            for _key, refers, target in references(item):
                if target not in tables[refers.to]:
                    known = ", ".join(sorted(tables[refers.to])) or "none configured"
                    problems.append(
                        Problem(
                            f'{noun} "{name}"',
                            f"unknown {refers.to} {target!r}",
                            f"known: {known}",
                        )
                    )


def declared_metrics(sources: Mapping[str, Source]) -> dict[str, str]:
    """The metrics the configured sources publish, as names or patterns (a template's
    `{row}` becomes `*`), with their units."""
    found: dict[str, str] = {}
    for source in sources.values():
        found.update(source.publishes())
    return found


def metric_problems(config: Config, stored: Mapping[str, str]) -> list[Problem]:
    """What `crossings check` adds for derived metrics: names that no source publishes,
    no derived metric defines and the database does not hold; unit mismatches. `stored`
    gives the stored metrics with their units."""
    declared = declared_metrics(config.sources)
    derived = config.metrics

    def units_of(pattern: str) -> set[str]:
        units = {unit for name, unit in stored.items() if fnmatch.fnmatchcase(name, pattern)}
        units |= {
            unit
            for name, unit in declared.items()
            if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(pattern, name)
        }
        return {unit for unit in units if unit}

    problems = []
    for name, metric in derived.items():
        for ref in sorted(metric.reads()):
            known = any(fnmatch.fnmatchcase(other, ref) for other in [*derived, *stored]) or any(
                fnmatch.fnmatchcase(pattern, ref) or fnmatch.fnmatchcase(ref, pattern)
                for pattern in declared
            )
            if not known:
                problems.append(
                    Problem(
                        f'metric "{name}"',
                        f"unknown metric {ref!r}: no source publishes it, no derived metric "
                        "defines it and the database holds none",
                        "check the name with `crossings metrics`",
                    )
                )
    for name, message in unit_problems(derived, units_of).items():
        problems.append(Problem(f'metric "{name}"', message))
    return problems


def rule_from(name: str, table: Any, where: str) -> Rule:
    """One rule from a TOML table given elsewhere than the config (a backtest of a rule
    before it is added); ConfigError listing its problems."""
    problems: list[Problem] = []
    built = _kinds({"rules": {name: table}}, "rules", "rule", RULE_KINDS, problems)
    if problems or name not in built:
        raise ConfigError(Path(where), problems)
    return built[name]


def unproduced_metrics(config: Config, stored: Callable[[], Iterable[str]]) -> list[Problem]:
    """Rules on a metric that nothing produces: no source publishes it (by name or
    template), no derived metric defines it and the database holds none - a typo, or a
    source removed. A config error for `crossings check` (the daemon logs it), unless the
    rule says `waits_for_metric = true`. The stored names are read only for a rule no
    source explains (with 10,000 sources that read takes seconds)."""
    watched = [
        (name, metric)
        for name, rule in config.rules.items()
        if not rule.waits_for_metric
        for metric in rule.reads()
    ]
    declared = [*declared_metrics(config.sources), *config.metrics]
    unexplained = [(name, m) for name, m in watched if m and not _produced(m, declared)]
    if not unexplained:
        return []
    known = list(stored())
    return [
        _unproduced(name, metric, sorted({*declared, *known} - {""}))
        for name, metric in unexplained
        if not _produced(metric, known)
    ]


def _unproduced(rule: str, metric: str, known: list[str]) -> Problem:
    close = _closest(metric, known)
    guess = f"did you mean {close!r}? " if close else ""
    shown = ", ".join(known[:SHOWN_METRICS]) or "none"
    more = f" and {len(known) - SHOWN_METRICS} more" if len(known) > SHOWN_METRICS else ""
    return Problem(
        f'rule "{rule}"',
        f"no source publishes metric {metric!r} and the database holds none",
        f"{guess}known metrics: {shown}{more}; if it is still to come, "
        "add `waits_for_metric = true` to the rule",
    )


def _closest(metric: str, known: list[str]) -> str | None:
    """The known metric most like `metric`; a template ('my.table.*') whose fixed part is
    close to the metric's start is tried with the metric's own tail, so
    'my.tabel.encounters' finds 'my.table.encounters'."""
    candidates = []
    for name in known:
        head = name[:-1]
        close_head = difflib.SequenceMatcher(None, head, metric[: len(head)]).ratio() >= 0.8
        templated = name.endswith("*") and "*" not in head and close_head
        candidates.append(head + metric[len(head) :] if templated else name)
    close = difflib.get_close_matches(metric, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def _produced(metric: str, known: Iterable[str]) -> bool:
    """Whether a metric (or pattern) and one of the known names (or templates) match."""
    return any(
        fnmatch.fnmatchcase(pattern, metric) or fnmatch.fnmatchcase(metric, pattern)
        for pattern in known
    )
