"""`crossings run`: the daemon."""

import asyncio
import logging

import click

from jobs.cli.context import Context, listen_option, pass_context
from jobs.logs import FORMATS, LEVELS, LogFormat, setup


@click.command()
@listen_option(
    "Where /healthz, /metrics and the web pages answer [default: `listen` in [settings]]."
)
@click.option(
    "--log-format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Readable lines, or one JSON object per line for a log collector.",
)
@click.option(
    "--log-level",
    type=click.Choice(LEVELS, case_sensitive=False),
    default="INFO",
    show_default=True,
    help="The least important lines logged, by the daemon and by its crawl children "
    "(DEBUG also shows Scrapy's progress lines).",
)
@pass_context
def run(context: Context, listen: str | None, log_format: LogFormat, log_level: str) -> None:
    """Run the daemon: crawl every source on its schedule, evaluate rules, send alerts and
    digests, and answer /healthz and /metrics. SIGTERM or Ctrl-C stops it cleanly.

    Example: crossings --config ~/crossings/crossings.toml run --listen 127.0.0.1:8080
    """
    from jobs.daemon import Daemon
    from jobs.daemon.config import load_packed

    config = load_packed(context.config_path)  # the daemon's small copy
    setup(log_format, level=logging.getLevelName(log_level.upper()))
    status = asyncio.run(Daemon(config, listen=listen, log_format=log_format).run())
    raise click.exceptions.Exit(status)


COMMANDS = (run,)
