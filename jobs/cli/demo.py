"""`crossings demo`: the first thing a newcomer runs (offline, about a minute)."""

import asyncio
import tempfile
from pathlib import Path

import click

from jobs.demo import DEFAULT_DURATION


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
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Stop by itself after this many seconds and print a summary; 0: until Ctrl-C "
    f"[default: once the story is told, at most {DEFAULT_DURATION:g}].",
)
@click.option(
    "--day-seconds",
    type=click.FloatRange(min=0.1),
    envvar="CROSSINGS_DEMO_DAY_SECONDS",
    hidden=True,
    help="Seconds per illustrative day on the demo site (tests make days pass faster).",
)
def demo(directory: Path | None, duration: float | None, day_seconds: float | None) -> None:
    """Watch crossings work, offline, in under a minute.

    Serves an illustrative demo website on this computer, a mail catcher and a webhook
    receiver, and runs the crossings daemon on them: you see pages fetched, figures
    stored, a 7-day mean cross 4,000 and the alert arrive by email and webhook, a
    published figure revised, the alert resolve, and a digest. Nothing leaves this
    computer. Ctrl-C stops sooner. Run again in the same --dir, it starts afresh (the
    previous run's database and mails move to DIR/previous).

    Afterwards, explore what it stored: crossings --config DIR/crossings.toml alerts

    Example: crossings demo --dir ~/crossings-demo
    """
    from jobs.demo.run import Demo  # the servers it needs load only for the demo

    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="crossings-demo-"))
    told = duration is None
    asyncio.run(
        Demo(
            directory.resolve(),
            duration=DEFAULT_DURATION if told else duration,
            until_told=told,
            day_seconds=day_seconds,
            echo=click.echo,
        ).run()
    )


COMMANDS = (demo,)
