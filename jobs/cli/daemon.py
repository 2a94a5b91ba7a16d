"""`crossings run`: the daemon."""

import asyncio

import click

from jobs.cli.context import Context, pass_context
from jobs.logs import FORMATS, LogFormat, setup


@click.command()
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Where /healthz, /metrics and the web pages answer [default: `listen` in [settings]].",
)
@click.option(
    "--log-format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Readable lines, or one JSON object per line for a log collector.",
)
@pass_context
def run(context: Context, listen: str | None, log_format: LogFormat) -> None:
    """Run the daemon: crawl every source on its schedule, evaluate rules, send alerts and
    digests, and answer /healthz and /metrics. SIGTERM or Ctrl-C stops it cleanly.

    Example: crossings --config ~/crossings/crossings.toml run --listen 127.0.0.1:8080
    """
    from jobs.daemon import Daemon

    config = context.config
    if listen is not None:
        host, _, port = listen.rpartition(":")
        if not host or not port.isdigit():
            raise click.BadParameter(
                "must be HOST:PORT, e.g. 127.0.0.1:8080", param_hint="--listen"
            )
    setup(log_format)
    status = asyncio.run(Daemon(config, listen=listen, log_format=log_format).run())
    raise click.exceptions.Exit(status)


COMMANDS = (run,)
