"""`crossings demo`: the first thing a newcomer runs (offline, about a minute)."""

import asyncio
import tempfile
from pathlib import Path

import click


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep the demo's config, database and daemon log here [default: a new temporary "
    "folder, kept afterwards].",
)
@click.option(
    "--for",
    "duration",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Stop by itself after this many seconds and print a summary [default: until Ctrl-C].",
)
@click.option(
    "--day-seconds",
    type=click.FloatRange(min=0.1),
    envvar="CROSSINGS_DEMO_DAY_SECONDS",
    hidden=True,
    help="Seconds per illustrative day on the demo site (tests make days pass faster).",
)
def demo(directory: Path | None, duration: float | None, day_seconds: float | None) -> None:
    """Watch crossings work, offline, in about a minute.

    Serves an illustrative demo website on this computer, a mail catcher and a webhook
    receiver, and runs the crossings daemon on them: you see pages fetched, figures
    stored, and an alert fire and arrive by email and webhook. Nothing leaves this
    computer. Ctrl-C stops everything.

    Afterwards, explore what it stored: crossings --config DIR/crossings.toml metrics

    Example: crossings demo --dir ~/crossings-demo --for 90
    """
    from jobs.demo.run import Demo  # the servers it needs load only for the demo

    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="crossings-demo-"))
    asyncio.run(
        Demo(directory.resolve(), duration=duration, day_seconds=day_seconds, echo=click.echo).run()
    )


COMMANDS = (demo,)
