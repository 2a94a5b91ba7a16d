"""Scrapyd nodes (`[settings] runner = "scrapyd"`): `deploy` uploads this crossings to
every node, `nodes` shows how each is."""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from jobs.cli.context import Context, pass_context
from jobs.cli.output import emit, output_options
from jobs.config import Config
from jobs.scrapyd import client, egg
from jobs.scrapyd.client import Credentials, Node, NodeError, NodeReport, inspect

T = TypeVar("T")
COLUMNS = ["node", "state", "running", "pending", "finished", "deployed", "problem"]


@click.command()
@pass_context
def deploy(context: Context) -> None:
    """Build crossings' egg (this code, versioned by its digest) and upload it to every
    node in `scrapyd_nodes` (Scrapyd's addversion.json). Credentials come from the
    environment variables named by scrapyd_username_env / scrapyd_password_env. Exits 1
    if any node could not take it.

    Example: SCRAPYD_USERNAME=crossings SCRAPYD_PASSWORD=... crossings deploy
    """
    config = _with_nodes(context.config)
    built = egg.build()
    click.echo(f"crossings {built.version} ({len(built.data) / 1024:.0f} KiB)")

    async def upload(node: Node) -> str:
        try:
            answer = await node.add_version(built.version, built.data)
        except NodeError as error:
            return f"{node.url}: not deployed: {error}"
        return f"{node.url}: deployed {answer.get('version')} ({answer.get('spiders')} spider)"

    lines = asyncio.run(_each(config, upload))
    for line in lines:
        click.echo(line)
    if any(": not deployed: " in line for line in lines):
        sys.exit(1)


@click.command()
@output_options
@pass_context
def nodes(context: Context, fmt: str) -> None:
    """The Scrapyd nodes: whether each is used ("ready") or not and why (down, refused
    credentials, another version of crossings deployed), its jobs running, pending and
    finished, and the newest version deployed on it. Exits 1 if any node is not ready.

    Example: crossings nodes
    """
    config = _with_nodes(context.config)
    version = egg.version()

    async def look(node: Node) -> NodeReport:
        return await inspect(node, version)

    reports = asyncio.run(_each(config, look))
    click.echo(f"this crossings: {version}", err=True)
    rows = [
        {
            "node": report.url,
            "state": "ready" if report.problem is None else "not used",
            "running": report.running,
            "pending": report.pending,
            "finished": report.finished,
            "deployed": report.versions[-1] if report.versions else None,
            "problem": report.problem,
        }
        for report in reports
    ]
    emit(rows, fmt, columns=COLUMNS, zone=config.settings.zone)
    if any(report.problem for report in reports):
        sys.exit(1)


def _with_nodes(config: Config) -> Config:
    if not config.settings.scrapyd_nodes:
        raise click.ClickException(
            f"{config.path} names no Scrapyd node: set scrapyd_nodes in [settings], e.g. "
            '["http://127.0.0.1:6800"] (see docs/scaling.md)'
        )
    return config


async def _each(config: Config, call: Callable[[Node], Awaitable[T]]) -> list[T]:
    settings = config.settings
    credentials = Credentials(settings.scrapyd_username_env, settings.scrapyd_password_env)
    async with client.session() as session:
        return await asyncio.gather(
            *(call(Node(url, session, credentials)) for url in settings.scrapyd_nodes)
        )


COMMANDS = (deploy, nodes)
