"""`crossings inspect --source NAME`: a configured source's last stored page (no network,
the database opened read-only), what its block expected, what the page has now, and the
smallest change of the block that reads it."""

import sys

import click

from jobs.cli.context import Context, one_of
from jobs.invocation import program
from scrapers.inspect.report import stored
from scrapers.inspect.stored import repair


def inspect_source(context: Context, name: str) -> None:
    config = context.config
    one_of("source", name, config.sources)
    source = config.sources[name]
    with context.store(read_only=True) as store:
        found = repair(store, name, source, program())
    if found is None:
        raise click.ClickException(
            f"{name}: no page of it is stored yet: `{program()} crawl {name}` fetches one"
        )
    fix, snapshot = found.fix, found.snapshot
    click.echo(f"{name}: its last stored page, {snapshot.url}, fetched {snapshot.fetched_at}")
    click.echo("\nConfigured:\n" + fix.before)
    if not fix.problem:
        click.echo("It reads as configured.")
        return
    click.echo(f"What it expected: {fix.problem}\n")
    if fix.survey is not None:
        click.echo(f"What the page has now ({fix.survey.body}):")
        for candidate in fix.survey.candidates:
            click.echo(f"  [{candidate.number}] {candidate.what}")
        if fix.survey.seen:
            click.echo(f"  also saw: {'; '.join(fix.survey.seen)}")
    if not fix.after or fix.proposal is None:
        click.echo(
            f"\nNo change of its keys reads the page. Each candidate above has a block of its "
            f"own: `{program()} inspect {source.url} --pick N`"
        )
        sys.exit(1)
    click.echo(f"\nThe smallest change that reads it ({', '.join(fix.changed)}):")
    click.echo(fix.diff)
    click.echo(f"It would store {stored(fix.proposal)}")
    click.echo(f"Edit the block in {context.config_path}, then: `{found.reparse}`")
