"""The `crossings` command: a thin click shell over the library. Each group of commands
lives in its own module; any crossings error becomes a one-line message here, in one
place (a broken config exits with status 2 and lists every problem)."""

import sys
from pathlib import Path
from typing import Any

import click

from core.errors import CrossingsError
from jobs.cli.context import Context
from jobs.cli.lazy import LazyGroup
from jobs.config import ConfigError
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


class CrossingsGroup(LazyGroup):
    """Shows what went wrong in a user's words instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            click.echo(f"Error: {as_invoked(str(error))}", err=True)
            raise click.exceptions.Exit(CONFIG_ERROR_EXIT) from None
        except CrossingsError as error:
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
    ctx.obj = Context(config_path)


def main() -> None:
    sys.exit(cli.main(prog_name="crossings"))
