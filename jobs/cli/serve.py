"""`crossings serve`: the read-only web pages without the daemon, for browsing a database
(a copy, or one the daemon on another machine fills)."""

import click
from aiohttp import web

from jobs.cli.context import Context, pass_context
from jobs.web.app import make_app


@click.command()
@click.option("--listen", metavar="HOST:PORT", help="Where to listen [default: settings.listen].")
@pass_context
def serve(context: Context, listen: str | None) -> None:
    """Serve the web pages (overview, metric charts, alerts, news, sources) read-only.

    Example: crossings serve --listen 127.0.0.1:8080, then open http://127.0.0.1:8080/
    """
    config = context.config
    host, _, port = (listen or config.settings.listen).rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(
            f"{listen!r} is not HOST:PORT, e.g. 127.0.0.1:8080", param_hint="--listen"
        )
    click.echo(f"Serving {config.database} read-only on http://{host}:{port}/ (Ctrl-C stops)")
    try:
        web.run_app(make_app(config), host=host, port=int(port), print=None)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror}") from None


COMMANDS = (serve,)
