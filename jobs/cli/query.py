"""Asking what crossings stored: sources, metrics, series, revisions, news, runs,
snapshots, free SQL and exports. Every command opens the database read-only, so it is
safe to run while the daemon writes."""

import difflib
import fnmatch
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING

import click

from jobs.cli.context import BadArgument, Context, one_of, pass_context, user_moment, user_when
from jobs.cli.output import ROW_ID, emit, output_options
from jobs.when import within
from storage import Store

if TYPE_CHECKING:
    from alerts.rule import Rule

# The alert, chart and config modules are imported by the commands and options that use
# them: `series` without --rule starts without them (bench/README.md, section 9).

EXPORT_FORMATS = ("csv", "json", "nl")
EXPORT_COLUMNS = ["metric", "period", "value", "unit", "flags", "first_seen", "last_seen",
                  "snapshot_id"]  # fmt: skip


def unknown_metric(store: Store, name: str) -> click.ClickException:
    names = store.queries.metric_names()
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else "run `crossings metrics` to list them"
    return click.ClickException(f"no stored values for metric {name!r}: {hint}")


@click.command()
@output_options
@pass_context
def sources(context: Context, fmt: str | None) -> None:
    """Sources with their last run, its outcome and counts, their next run, when a source
    whose last run failed is tried again (retry_at; `crossings crawl SOURCE` tries now),
    and their release rhythm: how often they publish (learned or from the `releases`
    hint), the release expected next, and how they are polled (see docs/sources.md).

    Example: crossings sources --csv
    """
    from jobs.views import sources_overview

    with context.store() as store:
        rows = sources_overview(context.config, store, now=datetime.now(UTC))
    columns = ["source", "status", "last_run", "next_run", "retry_at", "reason", "kind",
               "last_ok", "runs", "failures", "values_new", "values_revised", "news_new",
               "releases", "next_release", "polling"]  # fmt: skip
    emit(rows, fmt, columns=columns, zone=context.settings.zone)


@click.command()
@click.argument("pattern", required=False)
@output_options
@pass_context
def metrics(context: Context, pattern: str | None, fmt: str | None) -> None:
    """Metrics with their latest value and period, the change from the period before,
    how often it was revised, what a rule on it measures now (e.g. its 7-day mean) and
    when that value was last confirmed (as_of). PATTERN is a glob such as 'trac.*' or a
    part of the name. A table too narrow for the terminal shows each metric id in full on
    its own line; --wide shows every column.

    Example: crossings metrics backlog
    """
    from alerts.standing import rule_measures

    rules = context.config.rules.values()  # the whole config: the rules' measures need it
    with context.store() as store:
        rows = [
            {**asdict(row), "measure": rule_measures(store, rules, row.metric)}
            for row in store.queries.metric_summaries(pattern)
        ]
    columns = ["metric", "period", "value", "unit", "previous_period", "previous_value",
               "change", "change_pct", "as_of", "revisions", "label", "measure"]  # fmt: skip
    if fmt in (None, "table"):  # what a reader asks first: what is it now, did it move
        columns = ["metric", "period", "value", "change", "revisions", "measure", "change_pct",
                   "as_of", "unit", "label", "previous_period", "previous_value"]  # fmt: skip
    emit(rows, fmt, columns=columns, zone=context.settings.zone, key="metric")


@click.command()
@click.argument("metric")
@click.option("--as-of", help="As the sources had published it then: 2025-06-01, 7d, ...")
@click.option("--since", "since_text", help="First period to show: 2024-10, 2024, FY2025, 90d, ...")
@click.option("--until", "until_text", help="Last period to show: 2025-05, yesterday, ...")
@click.option(
    "--rule", "rule_name",
    help="Beside each value, what this rule measures (e.g. the 7-day mean) and whether its "
    "alert was firing.",
)  # fmt: skip
@output_options
@pass_context
def series(
    context: Context,
    metric: str,
    as_of: str | None,
    since_text: str | None,
    until_text: str | None,
    rule_name: str | None,
    fmt: str | None,
) -> None:
    """A metric's values by period, each with how often it was revised and the value it
    replaced. --since and --until keep the periods that overlap the dates they name;
    --as-of shows what was known at that time (a date: its end). --rule adds what a
    rule compares with its levels, as the charts draw it.

    Example: crossings series demo.swb.daily_encounters --rule border-week-high
    """
    rule = None if rule_name is None else known_rule(context, rule_name, metric)
    known_as_of = user_moment(context, as_of, "--as-of", whole_day=True)
    since = user_when(context, since_text, "--since")
    until = user_when(context, until_text, "--until")
    with context.store() as store:
        every = store.queries.series_with_revisions(metric, as_of=known_as_of)
        values = [row for row in every if within(row.period, since, until)]
        if not store.queries.has_metric(metric):
            raise unknown_metric(store, metric)
        if not values and (since or until):
            known = store.queries.series_with_revisions(metric)
            raise click.ClickException(
                f"{metric!r} has no period between {since_text or 'the first'} and "
                f"{until_text or 'the last'}: its periods run from {known[0].period!r} "
                f"to {known[-1].period!r}"
            )
        extra: list[str] = []
        beside: dict[str, dict] = {}  # period: what the rule measured there
        if rule is not None:
            from alerts.rule import drawings_for
            from series.drawing import metric_chart

            drawn = metric_chart(store, metric, drawings_for([rule], metric), as_of=known_as_of)
            extra = [line.label for line in drawn.measured] + ["alert"]
            beside = {period: {} for period in drawn.periods}
            for line in drawn.measured:
                for period, value in zip(drawn.periods, line.values, strict=True):
                    beside[period][line.label] = value
            for band in drawn.bands:
                for period in drawn.periods[band.first : band.last + 1]:
                    beside[period]["alert"] = "firing"
        rows = [{**asdict(row), **beside.get(row.period, {})} for row in values]
    columns = ["period", "value", *extra, "unit", "flags", "revisions", "replaced_value",
               "first_seen", "last_seen", "snapshot_id"]  # fmt: skip
    emit(rows, fmt, columns=columns, zone=context.settings.zone)


def known_rule(context: Context, name: str, metric: str) -> "Rule":
    """A configured rule that draws on `metric`, or a one-line error naming those that do."""
    rules = context.config.rules
    watching = sorted(n for n, rule in rules.items() if rule.watches(metric) and rule.drawing())
    if name in rules and name in watching:
        return rules[name]
    listed = ", ".join(watching) or "none"
    problem = "does not watch" if name in rules else "no rule named"
    start = f"rule {name!r} {problem} {metric!r}" if name in rules else f"{problem} {name!r}"
    raise BadArgument(f"--rule: {start} (rules on {metric!r}: {listed})")


@click.command()
@click.option("--since", default="7d", show_default=True, help="2025-03-01, 7d, 12h, ...")
@click.option("--metric", help="Only this metric.")
@output_options
@pass_context
def revisions(context: Context, since: str, metric: str | None, fmt: str | None) -> None:
    """Published values that changed: old and new value, when, and which snapshots.

    Example: crossings revisions --since 30d
    """
    with context.store() as store:
        if metric is not None and not store.queries.has_metric(metric):
            raise unknown_metric(store, metric)
        found = store.observations.revisions(
            since=user_moment(context, since, "--since") or "", metric=metric
        )
    rows = [{**vars(rev), "change": rev.new_value - rev.old_value} for rev in found]
    columns = ["metric", "period", "old_value", "new_value", "change", "old_first_seen",
               "revised_at", "old_snapshot_id", "new_snapshot_id"]  # fmt: skip
    emit(rows, fmt, columns=columns, zone=context.settings.zone)


@click.command()
@click.option("--search", "text", help='Words to find in title or summary: asylum "court backlog"')
@click.option("--since", help="First seen at or after: 2025-03-01, 7d, ...")
@click.option("--source", help="Only this source.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@output_options
@pass_context
def news(
    context: Context,
    text: str | None,
    since: str | None,
    source: str | None,
    limit: int,
    fmt: str | None,
) -> None:
    """News items from feeds and listings, newest first, with full-text search.

    Example: crossings news --search asylum --since 30d
    """
    with context.store() as store:
        if source is not None:
            one_of("source", source, [*context.config.sources, *store.stats.last_started()])
        items = store.news.search(
            text, since=user_moment(context, since, "--since"), source=source, limit=limit
        )
    columns = ["id", "published_at", "source", "title", "url", "first_seen"]
    emit([vars(item) for item in items], fmt, columns=columns, zone=context.settings.zone)


@click.command()
@click.argument("source", required=False)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@output_options
@pass_context
def runs(context: Context, source: str | None, limit: int, fmt: str | None) -> None:
    """Recent crawls, newest first, with their outcome and reason, for one SOURCE or all;
    then what `backfill` read from web archives, apart.

    Example: crossings runs trac_quickfacts --limit 5
    """
    with context.store() as store:
        if source is not None:
            one_of("source", source, [*context.config.sources, *store.stats.last_started()])
        rows = store.runs.recent(source, limit=limit)
        archives = store.queries.archives_read(source)
    columns = ["id", "source", "trigger", "status", "started_at", "finished_at", "requests",
               "values_new", "values_revised", "news_new", "reason"]  # fmt: skip
    emit(rows, fmt, columns=columns, zone=context.settings.zone)
    if archives and fmt is None:
        click.echo("\nRead from web archives (`backfill` runs; snapshots dated by capture):")
        columns = ["source", "archive", "captures", "first_capture", "last_capture"]
        emit(archives, fmt, columns=columns, zone=context.settings.zone)


@click.command()
@click.argument("snapshot_id", metavar="ID", type=ROW_ID)
@click.option("--info", is_flag=True, help="Show what was fetched, when and how, not the body.")
@output_options
@pass_context
def snapshot(context: Context, snapshot_id: int, info: bool, fmt: str | None) -> None:
    """Print the raw body of a stored fetch exactly as received (or --info about it).

    Example: crossings snapshot 42 > page.html
    """
    with context.store() as store:
        found = store.snapshots.get(snapshot_id)
        if found is None:
            raise click.ClickException(
                f"no snapshot {snapshot_id}: `crossings runs` and the source pages list them"
            )
        if info:
            columns = ["id", "source", "url", "fetched_at", "http_status", "content_type",
                       "size", "sha256", "etag", "last_modified"]  # fmt: skip
            if found.archive:  # a capture read from a web archive: from which, and when
                columns += ["archive", "archive_timestamp"]
            emit([vars(found)], fmt, columns=columns, zone=context.settings.zone)
            return
        if found.sha256 is None:
            raise click.ClickException(
                f"snapshot {snapshot_id} stored no body (HTTP {found.http_status}); "
                "use --info for what is known about it"
            )
        body = store.snapshots.body(found.sha256)
    sys.stdout.buffer.write(body)


@click.command()
@click.argument("sql")
@click.option(
    "-p", "--param", "params", type=(str, str), multiple=True, metavar="NAME VALUE",
    help="A value for :NAME in the SQL (repeatable).",
)  # fmt: skip
@click.option(
    "--time-limit", type=click.FloatRange(min=0, min_open=True), default=60.0,
    show_default=True, metavar="SECONDS", help="Stop the query after this many seconds.",
)  # fmt: skip
@output_options
@pass_context
def query(
    context: Context,
    sql: str,
    params: tuple[tuple[str, str], ...],
    time_limit: float,
    fmt: str | None,
) -> None:
    """Run one SQL statement on a read-only connection; a write is refused.

    Tables: sources, runs, snapshots, bodies, metrics, observations (current values have
    superseded_at NULL), news, alert_state, events, outbox.

    Example: crossings query "select period, value from observations
    where metric = :m and superseded_at is null" -p m trac.court.backlog --csv
    """
    with context.store() as store:
        result = store.queries.run_sql(sql, dict(params), seconds=time_limit)
        rows = list(result.rows) if fmt in (None, "table", "wide") else result.rows
        emit(rows, fmt, columns=result.columns, zone=context.settings.zone)


@click.command()
@click.argument("metric_names", metavar="METRIC...", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv",
              show_default=True)  # fmt: skip
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="Write to this file instead of standard output.")  # fmt: skip
@pass_context
def export(
    context: Context, metric_names: tuple[str, ...], fmt: str | None, output: IO[str]
) -> None:
    """Current values of one or more metrics (names or globs), streamed, with provenance.
    Shows progress on stderr when it is a terminal.

    Example: crossings export 'cbp.*' --format csv -o cbp.csv
    """
    with context.store() as store:
        known = store.queries.metric_names()
        chosen: list[str] = []
        for name in metric_names:
            matches = sorted(fnmatch.filter(known, name))
            if not matches:
                raise unknown_metric(store, name)
            chosen += [match for match in matches if match not in chosen]
        total = store.queries.export_count(chosen)
        rows = store.queries.export_rows(chosen)
        if sys.stderr.isatty():
            with click.progressbar(rows, length=total, label="Exporting", file=sys.stderr) as bar:
                emit(bar, fmt, columns=EXPORT_COLUMNS, zone=UTC, out=output)
        else:
            emit(rows, fmt, columns=EXPORT_COLUMNS, zone=UTC, out=output)


COMMANDS = (sources, metrics, series, revisions, news, runs, snapshot, query, export)
