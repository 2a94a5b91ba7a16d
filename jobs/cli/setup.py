"""Getting started: `init` writes an annotated config, `check` validates it and shows
what will run when, `kinds` explains every key."""

import dataclasses
import os
import time
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import click

from jobs.cli.context import Context, pass_context
from jobs.config import ConfigError, metric_problems, unproduced_metrics
from jobs.invocation import program
from jobs.scheduling.polling import is_auto
from jobs.scheduling.schedule import next_run
from jobs.starter import secret_variables, write_starter
from jobs.typed import help_of, hints_of, keys_of, required, toml_key, type_name


@click.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--force", is_flag=True, help="Overwrite an existing crossings.toml.")
def init(directory: Path, force: bool) -> None:
    """Write an annotated starter config to DIRECTORY/crossings.toml.

    Example: crossings init ~/crossings && cd ~/crossings && crossings check
    """
    try:
        path = write_starter(directory, force=force)
    except FileExistsError as error:
        raise click.ClickException(
            f"{error.args[0]} already exists: edit it, or pass --force to replace it"
        ) from None
    click.echo(f"Wrote {path}")
    click.echo(f"Next: {program()} --config {path} check")


@click.command()
@pass_context
def check(context: Context) -> None:
    """Validate the config and show sources with their next runs, rules and channels.

    Exits with status 2 and lists every problem when the config is broken. The metrics
    that derived metrics read and rules watch are also checked against what the sources
    publish and the database holds: a rule on a metric that nothing produces is a
    problem (a typo, or a source removed) unless it says `waits_for_metric = true`.

    Example: crossings --config ~/crossings/crossings.toml check
    """
    config = context.config
    stored: dict[str, str] = {}
    if (config.metrics or config.rules) and config.database.exists():
        with context.store() as store:
            stored = dict.fromkeys(store.queries.metric_names(), "") | store.catalog.units()
    if problems := metric_problems(config, stored) + unproduced_metrics(config, lambda: stored):
        raise ConfigError(config.path, problems)
    zone = config.settings.zone
    now = datetime.now(UTC).astimezone(zone)
    click.echo(f"Config {config.path}: OK")
    state = "exists" if config.database.exists() else "will be created on first run"
    click.echo(f"Database {config.database} ({state}); timezone {config.settings.timezone}")
    click.echo(f"\nSources ({len(config.sources)})")
    agent = config.settings.agent
    click.echo(f"  Every request sends User-Agent: {agent} (unless a source says otherwise)")
    for name, source in config.sources.items():
        if is_auto(source):
            when = "by its release plan (crossings sources)" if source.enabled else "disabled"
        else:
            upcoming = next_run(source.schedule, zone, now=now) if source.enabled else None
            when = upcoming.strftime("%Y-%m-%d %H:%M %Z") if upcoming else "disabled"
        mark = "  (unverified)" if source.unverified else ""
        click.echo(f"  {name:<28} {source.kind:<8} {source.schedule:<14} next {when}{mark}")
        if source.releases:
            click.echo(f"  {'':<28} releases: {source.releases}")
        click.echo(f"  {'':<28} {source.url}")
        for header, value in source.request_headers(agent).items():
            if (header, value) != ("User-Agent", agent):
                click.echo(f"  {'':<28} sends {header}: {value}")
    if unverified := [name for name, source in config.sources.items() if source.unverified]:
        click.echo(
            f"  {len(unverified)} of {len(config.sources)} sources are unverified: no real copy "
            "of their pages was checked; their first crawls report what they found"
        )
    if config.metrics:
        click.echo(f"\nDerived metrics ({len(config.metrics)})")
        for name, metric in config.metrics.items():
            click.echo(f"  {name:<28} = {metric.expression}")
    click.echo(f"\nRules ({len(config.rules)})")
    for name, rule in config.rules.items():
        click.echo(f"  {name:<28} {rule.kind:<12} -> {', '.join(rule.channels) or '(no channel)'}")
    click.echo(f"\nChannels ({len(config.channels)})")
    for name, channel in config.channels.items():
        missing = [var for var in secret_variables(channel) if not os.environ.get(var)]
        note = f"  (unset: {', '.join(missing)})" if missing else ""
        click.echo(f"  {name:<28} {channel.kind}{note}")
    click.echo(f"\nDigests ({len(config.digests)})")
    for name, digest in config.digests.items():
        upcoming = next_run(digest.schedule, zone, now=now)
        when = upcoming.strftime("%Y-%m-%d %H:%M %Z") if upcoming else "never"
        click.echo(
            f"  {name:<28} {digest.schedule:<14} next {when} -> {', '.join(digest.channels)}"
        )


@click.command()
@click.argument("kind", required=False)
def kinds(kind: str | None) -> None:
    """List every source, rule and channel kind with its keys, or one KIND in full.

    Example: crossings kinds table
    """
    from alerts.kinds import CHANNEL_KINDS, RULE_KINDS
    from scrapers.kinds import SOURCE_KINDS

    groups: dict[str, Mapping[str, type]] = {
        "source": SOURCE_KINDS,
        "rule": RULE_KINDS,
        "channel": CHANNEL_KINDS,
    }
    shown = 0
    for noun, registry in groups.items():
        for name, cls in sorted(registry.items()):
            if kind and name != kind:
                continue
            shown += 1
            click.echo(f"{noun} kind {name!r}: {(cls.__doc__ or '').strip().splitlines()[0]}")
            _keys(cls, "  ")
            click.echo()
    if kind and not shown:
        raise click.ClickException(f"no kind named {kind!r}; run `crossings kinds` to list them")


def _keys(cls: type, indent: str) -> None:
    """Each key of a settings class; the keys of a list of tables (facts, figures) below it."""
    hints = hints_of(cls)
    for field in keys_of(cls):
        mark = "required" if required(field) else f"default {field.default!r}"
        if field.default is dataclasses.MISSING and not required(field):
            mark = "optional"
        click.echo(f"{indent}{toml_key(field):<22} {type_name(hints[field.name]):<10} {mark}")
        if help_text := help_of(field):
            click.echo(f"{indent}{'':<22} {help_text}")
        inner = typing.get_args(hints[field.name])
        if inner and isinstance(inner[0], type) and dataclasses.is_dataclass(inner[0]):
            click.echo(f"{indent}{'':<22} each with the keys:")
            _keys(inner[0], indent + "    ")


@click.command()
@pass_context
def migrate(context: Context) -> None:
    """Update the database to this crossings' schema (new indexes and tables), in place.

    Crawls and the daemon do this whenever they open the file; query commands never write,
    so they ask for it when an older file would make them slow. Safe to run again.

    Example: crossings migrate
    """
    from storage.migrations import LATEST, schema_version

    database = context.config.database
    with context.store() as store:
        before = schema_version(store.db)
    if before == LATEST:
        click.echo(f"{database} is up to date (schema {LATEST})")
        return
    started = time.monotonic()
    with context.store(read_only=False):
        pass  # opening for writing migrates
    click.echo(f"{database}: schema {before} -> {LATEST} in {time.monotonic() - started:.1f} s")


COMMANDS = (init, check, kinds, migrate)
