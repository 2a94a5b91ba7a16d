"""The `crossings` command: a thin click shell over the library. Each group of commands
lives in its own module; any crossings error becomes a one-line message here, in one
place (a broken config exits with status 2 and lists every problem)."""

import sys
from pathlib import Path
from typing import Any

import click

from core.errors import CrossingsError
from jobs.cli.lazy import LazyGroup
from jobs.invocation import NAME, program

CONFIG_ERROR_EXIT = 2

# Every command, as "module:attribute": a module is imported only when one of its commands
# runs. A module lists what it offers in its COMMANDS; a test checks that this table agrees.
COMMAND_PATHS = {
    "init": "jobs.cli.setup:init",
    "check": "jobs.cli.setup:check",
    "kinds": "jobs.cli.setup:kinds",
    "migrate": "jobs.cli.setup:migrate",
    "crawl": "jobs.cli.crawl:crawl",
    "reparse": "jobs.cli.crawl:reparse",
    "backfill": "jobs.cli.backfill:backfill",
    "inspect": "jobs.cli.inspect:inspect",
    "alerts": "jobs.cli.alerts:alerts",
    "notify": "jobs.cli.alerts:notify",
    "digest": "jobs.cli.alerts:digest",
    "demo": "jobs.cli.demo:demo",
    "sources": "jobs.cli.query:sources",
    "metrics": "jobs.cli.query:metrics",
    "series": "jobs.cli.query:series",
    "revisions": "jobs.cli.query:revisions",
    "news": "jobs.cli.query:news",
    "runs": "jobs.cli.query:runs",
    "snapshot": "jobs.cli.query:snapshot",
    "query": "jobs.cli.query:query",
    "export": "jobs.cli.query:export",
    "serve": "jobs.cli.serve:serve",
    "run": "jobs.cli.daemon:run",
    "deploy": "jobs.cli.nodes:deploy",
    "nodes": "jobs.cli.nodes:nodes",
}

# Commands that read stored data and never a schedule: they read the config's [settings]
# alone unless they need more (then they leave its cron lines to `check` and the daemon),
# and start without the kinds or APScheduler (bench/README.md, section 9). `sources` is
# not one: it shows each source's next run.
UNSCHEDULED = frozenset({"metrics", "series", "revisions", "news", "runs", "snapshot", "query",
                         "export"})  # fmt: skip

# Each command's short help as `crossings --help` lists it, so that listing imports none of
# the command modules (a test checks that these agree with the commands' docstrings).
SHORT_HELP = {
    "init": "Write an annotated starter config to DIRECTORY/crossings.toml.",
    "check": "Validate the config and show sources with their next runs, rules and channels.",
    "kinds": "List every source, rule and channel kind with its keys, or one KIND in full.",
    "migrate": "Update the database to this crossings' schema (new indexes and tables), in place.",
    "crawl": (
        "Crawl SOURCES now (or --all) and show, per source, its status, values new / revised /..."
    ),
    "reparse": (
        "Re-extract SOURCE from its newest stored snapshot, with no network (after a parser or..."
    ),
    "backfill": (
        "Read SOURCE's captures from a web archive, from before crossings watched it: each..."
    ),
    "inspect": (
        "List, numbered, everything crossings could read at TARGET (a URL or a file here):..."
    ),
    "alerts": "Show each rule's state per series, the recent events and the outbox.",
    "notify": "Check that channels deliver.",
    "digest": "Preview the digest NAME into a file, or send it now.",
    "demo": "Watch crossings work, offline, in under a minute.",
    "sources": (
        "Sources with their last run, its outcome and counts, their next run, when a source..."
    ),
    "metrics": (
        "Metrics with their latest value and period, the change from the period before, how..."
    ),
    "series": (
        "A metric's values by period, each with how often it was revised and the value it replaced."
    ),
    "revisions": "Published values that changed: old and new value, when, and which snapshots.",
    "news": "News items from feeds and listings, newest first, with full-text search.",
    "runs": "Recent crawls, newest first, with their outcome and reason, for one SOURCE or all;...",
    "snapshot": "Print the raw body of a stored fetch exactly as received (or --info about it).",
    "query": "Run one SQL statement on a read-only connection; a write is refused.",
    "export": "Current values of one or more metrics (names or globs), streamed, with provenance.",
    "serve": "Serve the web pages (overview, metric charts, alerts, news, sources) read-only.",
    "run": "Run the daemon: crawl every source on its schedule, evaluate rules, send alerts and...",
    "deploy": (
        "Build crossings' egg (this code, versioned by its digest) and upload it to every node..."
    ),
    "nodes": 'The Scrapyd nodes: whether each is used ("ready") or not and why (down, refused...',
}


class CrossingsGroup(LazyGroup):
    """Shows what went wrong in a user's words instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CrossingsError as error:
            from jobs.settings import ConfigError  # loaded by then: the config was read

            if isinstance(error, ConfigError):
                click.echo(f"Error: {as_invoked(str(error))}", err=True)
                raise click.exceptions.Exit(CONFIG_ERROR_EXIT) from None
            raise click.ClickException(as_invoked(str(error))) from None
        except click.UsageError:
            raise
        except click.ClickException as error:
            if (said := as_invoked(error.message)) == error.message:
                raise
            raise click.ClickException(said) from None


def as_invoked(message: str) -> str:
    """Commands quoted in a message (`crossings metrics`) as the user can paste them."""
    name = program()
    return message if name == NAME else message.replace(f"`{NAME} ", f"`{name} ")


@click.group(
    cls=CrossingsGroup,
    lazy_commands=COMMAND_PATHS,
    listing=SHORT_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="CROSSINGS_CONFIG",
    show_envvar=True,
    help="The config file [default: ./crossings.toml].",
)
@click.version_option(package_name="crossings")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """crossings watches public statistics on US immigration, keeps every figure with its
    revision history, and alerts you when something important moves.

    Start with `crossings demo` (offline), or `crossings init DIR` for your own config.
    """
    from jobs.cli.context import Context  # not for --help: it needs no config

    ctx.obj = Context(config_path, reads_stored=ctx.invoked_subcommand in UNSCHEDULED)


def main() -> None:
    sys.exit(cli.main(prog_name="crossings"))
