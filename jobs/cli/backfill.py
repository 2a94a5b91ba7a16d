"""`backfill`: a source's history before crossings watched it, from a web archive."""

import sys
from datetime import date
from pathlib import Path

import click

from core.checked import HttpUrl
from jobs.cli.context import Context, one_of, pass_context
from jobs.cli.output import say
from jobs.typed import ClickType
from scrapers.backfill.client import DEFAULT_BUDGET, DEFAULT_DELAY, INTERNET_ARCHIVE, ArchiveClient

LINES_SHOWN = 30


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a day such as 2024-01-31") from None


@click.command()
@click.argument("source")
@click.option("--since", callback=_day, help="First day of captures to read (YYYY-MM-DD).")
@click.option("--until", callback=_day, help="Last day of captures to read (YYYY-MM-DD).")
@click.option(
    "--archive",
    type=ClickType(HttpUrl),
    default=INTERNET_ARCHIVE,
    show_default=True,
    help="The archive's replay address: the Internet Archive, or a pywb collection such "
    "as https://archive.example.org/my-collection.",
)
@click.option(
    "--budget", type=click.IntRange(min=1), default=DEFAULT_BUDGET, show_default=True,
    help="Most requests to the archive in this run (robots.txt, index queries, captures).",
)  # fmt: skip
@click.option(
    "--delay", type=click.FloatRange(min=0), default=DEFAULT_DELAY, show_default=True,
    help="Seconds between two requests to the archive.",
)  # fmt: skip
@click.option("--dry-run", is_flag=True, help="List the captures it would fetch; store nothing.")
@pass_context
def backfill(
    context: Context,
    source: str,
    since: str | None,
    until: str | None,
    archive: str,
    budget: int,
    delay: float,
    dry_run: bool,
) -> None:
    """Read SOURCE's captures from a web archive, from before crossings watched it: each
    becomes a snapshot dated by its capture, its values vintages first seen then (a value
    that changed between captures is a revision). Then the rules record what happened in
    that history as past events; nothing is sent. A capture that cannot be read is one
    line; a second run skips what is stored and goes on where the first stopped.

    Example: crossings backfill trac-detention --since 2024-01-01 --dry-run
    """
    from alerts.engine import evaluate
    from scrapers.backfill import backfill as read_archive
    from series.derived import derive

    config = context.config
    one_of("source", source, config.sources)
    client = ArchiveClient(archive, config.settings, budget=budget, delay=delay)
    # a dry run reads what is stored already (a new database: an empty one)
    with context.store(read_only=dry_run and Path(config.database).exists()) as store:
        queued = []
        if not dry_run:  # live values not yet evaluated are alerted as usual, not as past
            derive(store, config.metrics)
            queued = evaluate(store, config.rules)
        done = read_archive(
            store, source, config.sources[source], client, since=since, until=until,
            dry_run=dry_run,
        )  # fmt: skip
        if not dry_run and done.stored:
            derive(store, config.metrics)
            evaluate(store, config.rules, past=True)
    planned = done.planned
    if dry_run:
        click.echo(f"{source}: {done.listed} captures in {archive}; would fetch {len(planned)} "
                   f"({done.skipped} already stored) in about {client.requests + len(planned)} "
                   "requests")  # fmt: skip
        for capture in planned[:LINES_SHOWN]:
            click.echo(f"  {capture.at[:19]}  {capture.url}")
        if config.sources[source].file_link:
            click.echo("  (and then the files those landing pages link to, once read)")
    else:
        run = done.run
        click.echo(
            f"{source}: {done.listed} captures in {archive}; {len(planned)} fetched, "
            f"{done.stored} with values stored, {done.skipped} stored before; "
            f"{run.values_new if run else 0} values new, "
            f"{run.values_revised if run else 0} revised; {client.requests} requests"
        )
    if queued:
        click.echo(f"{len(queued)} alerts on live data stored before were queued first "
                   "(the daemon sends them, or the next `crossings crawl`)")  # fmt: skip
    for line in done.lines[:LINES_SHOWN]:
        say(f"  {line}")
    if len(done.lines) > LINES_SHOWN:
        say(f"  ... and {len(done.lines) - LINES_SHOWN} more")
    if done.stopped:
        say(f"stopped: {done.stopped}", err=True)
        sys.exit(1)


COMMANDS = (backfill,)
