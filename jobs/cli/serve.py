"""`crossings serve`: the read-only web pages without the daemon, for browsing a database
(a copy, or one the daemon on another machine fills)."""

import click
from aiohttp import web

from core.checked import host_port
from jobs.cli.context import Context, listen_option, pass_context
from jobs.web.access import exposure
from jobs.web.app import make_app


@click.command()
@listen_option("Where to listen [default: `listen` in [settings]].")
@pass_context
def serve(context: Context, listen: str | None) -> None:
    """Serve the web pages (overview, metric charts, alerts, news, sources) read-only.

    Example: crossings serve --listen 127.0.0.1:8080, then open http://127.0.0.1:8080/
    """
    config = context.config
    address = listen or config.settings.listen
    host, port = host_port(address)
    click.echo(f"Serving {config.database} read-only on http://{address}/ (Ctrl-C stops)")
    if warning := exposure(host, config):
        click.echo(f"Warning: {warning}", err=True)
    try:
        web.run_app(make_app(config), host=host, port=port, print=None)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {address}: {error.strerror}") from None


COMMANDS = (serve,)
