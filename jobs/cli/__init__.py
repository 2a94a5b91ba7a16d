"""The `crossings` command: a thin click shell over the library. Each group of commands
lives in its own module; library errors become one-line messages, a broken config exits
with status 2 and lists every problem."""

import sys
from pathlib import Path

import click

from jobs.cli import alerts, crawl, daemon, demo, query, serve, setup
from jobs.cli.context import Context


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


for module in (setup, crawl, alerts, demo, query, serve, daemon):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    sys.exit(cli.main(prog_name="crossings"))
