"""Alert commands: where every rule stands and what it raised, silences, a test message
per channel, and digests (preview to a file, or send now)."""

import fnmatch
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import click

from alerts.backtest import NotReplayable
from alerts.backtest import backtest as replay
from alerts.counting import events_counted, messages_counted
from alerts.digests import preview, queue_digest
from alerts.message import Message
from alerts.rule import Rule
from alerts.standing import standing
from core import clock
from core.formatting import moment
from jobs.aftermath import deliver
from jobs.cli.context import BadArgument, Context, one_of, pass_context, user_moment, user_when
from jobs.cli.output import ROW_ID, emit, output_options, say
from jobs.config import ConfigError, rule_from
from jobs.typed import format_duration, parse_duration
from jobs.when import parse_when, within

SHOWN_SERIES = 10  # per rule: a pattern rule may watch hundreds


@click.group(invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, help="How many recent events to show.")
@click.pass_context
def alerts(ctx: click.Context, limit: int) -> None:
    """Show each rule's state per series, the recent events and the outbox.

    Example: crossings alerts --limit 50
    """
    if ctx.invoked_subcommand is not None:
        return
    context = ctx.find_object(Context)
    if context is None:
        raise click.UsageError("crossings alerts runs as a subcommand of crossings")
    config = context.config
    zone = config.settings.zone
    with context.store() as store:
        states = store.alerts.states()
        events = store.alerts.events(limit=limit)
        silenced = [s.rule for s in store.alerts.silences(active_at=clock.now())]
        counts = store.outbox.counts()
        sent = store.outbox.sent_by_channel()
        kinds = store.alerts.event_kinds()
        pending = store.outbox.recent(status="pending", limit=10)
        dead = store.outbox.recent(status="dead", limit=5)
        stored = store.queries.metric_names()
    click.echo(f"Rules ({len(config.rules)})")
    by_rule: dict[str, list] = {}
    for state in states:
        by_rule.setdefault(state.rule, []).append(state)
    for name, rule in config.rules.items():
        mark = " (silenced)" if any(fnmatch.fnmatchcase(name, p) for p in silenced) else ""
        firing = [s for s in by_rule.get(name, []) if s.state == "firing"]
        # what a rule measures is worth a line per series; "not firing" alone is not
        held = by_rule.get(name, []) if rule.drawing() is not None else firing
        summary = f"{len(firing)} firing" if firing else "ok"
        if not by_rule.get(name) and (waiting := _no_values(rule, stored)):
            summary = f"no data yet: {waiting}"
        click.echo(f"  {name:<30} {rule.kind:<14} {summary}{mark}")
        for state in sorted(held, key=lambda s: (s.state != "firing", s.series))[:SHOWN_SERIES]:
            words = standing(rule, state, lambda stored: moment(stored, zone))
            say(f"      {state.series}: {words}")
        if len(held) > SHOWN_SERIES:
            click.echo(f"      ... and {len(held) - SHOWN_SERIES} more series")
    shown = f"; the {len(events)} most recent:" if events else ""
    click.echo(f"\n{_sentence(events_counted(kinds))}{shown}")
    for event in events:
        mark = "" if _delivery(event) == "sent" else f" ({_delivery(event)})"
        say(f"  {moment(event.at, zone)}  {event.kind:<9} {event.summary}{mark}")
    click.echo(
        f"\n{_sentence(messages_counted(sent))}; waiting in the outbox: "
        f"{counts['pending']} pending, {counts['dead']} dead"
    )
    for message in pending:
        tried = (
            f"{message.attempts} attempt(s), last error: {message.last_error}"
            if message.last_error
            else "not tried yet"
        )
        say(
            f"  pending {message.id}: {message.subject} -> {message.channel}: {tried}; "
            f"next try {moment(message.next_attempt_at, zone)}"
        )
    for message in dead:
        say(f"  dead {message.id}: {message.subject} -> {message.channel}: {message.last_error}")
    if dead:
        click.echo("  Send dead messages again: crossings alerts retry --dead (or retry ID)")


@alerts.command()
@click.option("--since", help="Only events from then on: 2025-03-01, 2025-03, 7d, today, ...")
@click.option("--rule", help="Only this rule's events.")
@click.option("--limit", default=100, show_default=True)
@output_options
@pass_context
def events(
    context: Context, since: str | None, rule: str | None, limit: int, fmt: str | None
) -> None:
    """List events (firing, resolved, reminder, notice), newest first.

    Example: crossings alerts events --since 7d --json
    """
    zone = context.config.settings.zone
    start = user_moment(context, since, "--since")
    if rule is not None:
        one_of("rule", rule, context.config.rules)
    with context.store() as store:
        found = store.alerts.events(since=start, rule=rule, limit=limit)
    rows = [
        {"at": e.at, "kind": e.kind, "rule": e.rule, "series": e.series, "period": e.period,
         "delivery": _delivery(e), "summary": e.summary}
        for e in found
    ]  # fmt: skip
    emit(rows, fmt, columns=list(EVENT_COLUMNS), zone=zone)


EVENT_COLUMNS = ("at", "kind", "rule", "series", "period", "delivery", "summary")


def _delivery(event) -> str:
    """Why an event was (not) sent: historical, inhibited, silenced, or sent."""
    if event.historical:
        return "historical (not sent)"
    if event.inhibited_by:
        return f"inhibited: {event.inhibited_by} broken"
    return "silenced" if event.silenced else "sent"


@alerts.command()
@click.argument("rule")
@click.option("--since", help="Only crossings in periods from then on: 2024-06, FY2024, ...")
@click.option(
    "--file", "rules_file", type=click.Path(dir_okay=False, exists=True),
    help="Take RULE from this TOML file ([rules.NAME] tables), not from the config.",
)  # fmt: skip
@click.option(
    "--define",
    help="The rule itself, as comma-separated TOML keys: "
    '\'kind = "threshold", metric = "m", at_or_above = 2500\'.',
)
@output_options
@pass_context
def backtest(
    context: Context,
    rule: str,
    since: str | None,
    rules_file: str | None,
    define: str | None,
    fmt: str | None,
) -> None:
    """Replay RULE over the stored history and print every firing and resolution with
    its period and value. Sends nothing and writes nothing: try a rule before adding it.

    Examples: crossings alerts backtest border-proclamation --since 2024-06-01

      crossings alerts backtest four-k --define 'kind = "threshold",
      metric = "cbp.swb.daily-average", above = 4000'
    """
    chosen = _rule_to_replay(context, rule, rules_file, define)
    start = user_when(context, since, "--since")
    with context.store() as store:
        try:
            rows = [
                {"period": c.period, "kind": c.kind, "series": c.series,
                 "value": None if c.value is None else round(c.value, 2), "condition": c.says}
                for c in replay(store, chosen)
                if within(c.period, start, None)
            ]  # fmt: skip
        except (NotReplayable, ValueError) as error:
            raise click.ClickException(str(error)) from None
    if not rows and fmt in (None, "table"):
        with context.store() as store:
            waiting = _no_values(chosen, store.queries.metric_names())
        click.echo(f"{rule}: {waiting or 'no firing or resolution in the stored history'}")
        return
    emit(rows, fmt, columns=["period", "kind", "series", "value", "condition"],
         zone=context.config.settings.zone)  # fmt: skip


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _no_values(rule: Rule, stored: list[str]) -> str | None:
    """Why a rule on metrics has nothing to judge: none of their values are stored (a
    typo, or a metric still to come); None when some are, or it reads no metric."""
    missing = [m for m in rule.reads() if not any(fnmatch.fnmatchcase(n, m) for n in stored)]
    if not missing:
        return None
    return f"no stored values of {', '.join(missing)} (`crossings metrics` lists those there are)"


def _rule_to_replay(context: Context, name: str, rules_file: str | None, define: str | None):
    if rules_file and define:
        raise click.UsageError("give --file or --define, not both")
    try:
        if define is not None:
            table = tomllib.loads(f"rule = {{ {define} }}")["rule"]
            return rule_from(name, table, "--define")
        if rules_file is not None:
            with open(rules_file, "rb") as handle:
                tables = tomllib.load(handle).get("rules", {})
            if name not in tables:
                known = ", ".join(sorted(tables)) or "none"
                raise click.ClickException(f"{rules_file} has no [rules.{name}] (has: {known})")
            return rule_from(name, tables[name], rules_file)
    except tomllib.TOMLDecodeError as error:
        raise click.ClickException(f"not valid TOML: {error}") from None
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    rules = context.config.rules
    return rules[one_of("rule", name, rules)]


@alerts.command()
@click.argument("message_id", type=ROW_ID, required=False)
@click.option("--dead", "all_dead", is_flag=True, help="Every message given up (dead).")
@pass_context
def retry(context: Context, message_id: int | None, all_dead: bool) -> None:
    """Send an outbox message again now: one by ID (a dead one, or a pending one without
    waiting for its next try), or every dead one. Its retries start over.

    Example: crossings alerts retry --dead
    """
    if (message_id is None) == (not all_dead):
        raise click.UsageError("give exactly one of a message ID or --dead")
    config = context.config
    with context.store(read_only=False) as store:
        if message_id is None:
            ids = store.outbox.ids(status="dead")
        else:
            found = store.outbox.get(message_id)
            if found is None:
                raise click.ClickException(
                    f"no outbox message {message_id}: `crossings alerts` lists them"
                )
            if found.status == "sent":
                raise click.ClickException(
                    f"message {message_id} was already sent "
                    f"({moment(found.sent_at, config.settings.zone)})"
                )
            ids = [message_id]
        queued = store.outbox.requeue(ids, at=clock.now())
        report = deliver(config, store)
    click.echo(f"Queued {queued} message(s) again; sent {report.sent} due message(s).")
    retried = format_duration(config.settings.retry_alerts_for)
    for error in report.errors:
        say(f"  not yet delivered (retried for {retried}): {error}", err=True)


@alerts.command()
@click.argument("rule")
@click.option("--until", "until", required=True,
              help="A time (2025-01-31, 2025-01-31T18:00) in the configured zone, or a "
                   "duration from now (6h, 3d, 2w).")  # fmt: skip
@click.option("--comment", default="", help="Why, for whoever reads `crossings alerts`.")
@pass_context
def silence(context: Context, rule: str, until: str, comment: str) -> None:
    """Silence RULE (a name or pattern like 'cbp-*') until a time: its events are still
    recorded, but nothing is sent.

    Example: crossings alerts silence border-proclamation --until 3d --comment "known"
    """
    config = context.config
    if not any(fnmatch.fnmatchcase(name, rule) for name in config.rules):
        one_of("rule", rule, config.rules)  # matches none: says which there are
    ends = _moment(until, config.settings.zone)
    if ends <= datetime.now(UTC):
        raise BadArgument(f"--until: {until!r} is in the past")
    until_text = clock.to_text(ends)
    with context.store(read_only=False) as store:
        silence_id = store.alerts.silence(rule, until=until_text, comment=comment)
    shown = moment(until_text, config.settings.zone)
    click.echo(f"Silenced {rule} until {shown} (silence {silence_id})")


@alerts.command()
@click.option("--all", "show_all", is_flag=True, help="Include silences that have ended.")
@output_options
@pass_context
def silences(context: Context, show_all: bool, fmt: str | None) -> None:
    """List silences (those in force, or all).

    Example: crossings alerts silences --all
    """
    with context.store() as store:
        found = store.alerts.silences(active_at=None if show_all else clock.now())
    rows = [vars(item) for item in found]
    emit(rows, fmt, columns=["id", "rule", "until", "comment", "created_at"],
         zone=context.config.settings.zone)  # fmt: skip


@alerts.command()
@click.argument("silence_id", type=ROW_ID)
@pass_context
def unsilence(context: Context, silence_id: int) -> None:
    """Remove the silence with id SILENCE_ID (see `crossings alerts silences`).

    Example: crossings alerts unsilence 3
    """
    with context.store(read_only=False) as store:
        if not store.alerts.unsilence(silence_id):
            raise click.ClickException(
                f"no silence {silence_id}: `crossings alerts silences --all` lists them"
            )
    click.echo(f"Removed silence {silence_id}")


@click.group()
def notify() -> None:
    """Check that channels deliver."""


@notify.command("test")
@click.argument("channel")
@pass_context
def notify_test(context: Context, channel: str) -> None:
    """Send a test message through CHANNEL now (not through the outbox) and say whether
    it arrived.

    Example: crossings notify test newsroom
    """
    config = context.config
    one_of("channel", channel, config.channels)
    at = clock.now()
    shown = moment(at)
    message = Message(
        subject=f"crossings test message for channel {channel}",
        text=f"This is a test from crossings ({shown}). If you read it, channel {channel!r} works.",
        html=f"<p>This is a test from crossings ({shown}). If you read it, "
        f"channel <b>{channel}</b> works.</p>",
        data={"test": True, "channel": channel, "at": at},
        idempotency_key=f"test-{channel}-{at}".replace(":", "").replace(".", ""),
    )
    config.channels[channel].send(message)
    click.echo(f"Sent a test message through {channel} ({config.channels[channel].kind}).")


@click.command()
@click.argument("name")
@click.option(
    "--preview",
    "preview_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the digest as one HTML file (charts inside) instead of sending.",
)
@click.option("--send", is_flag=True, help="Queue the digest for its channels and deliver now.")
@pass_context
def digest(context: Context, name: str, preview_path: Path | None, send: bool) -> None:  # fmt: skip
    """Preview the digest NAME into a file, or send it now.

    Example: crossings digest weekly --preview weekly.html
    """
    config = context.config
    one_of("digest", name, config.digests)
    if (preview_path is None) == (not send):
        raise click.UsageError("give exactly one of --preview FILE.html or --send")
    settings = config.digests[name]
    if preview_path is not None:
        with context.store() as store:
            page = preview(store, settings, config.rules, templates=config.templates)
        preview_path.write_text(page, encoding="utf-8")
        click.echo(f"Wrote {preview_path}")
        return
    with context.store(read_only=False) as store:
        queued = queue_digest(store, settings, config.rules, templates=config.templates)
        report = deliver(config, store)
    click.echo(f"Queued {len(queued)} message(s); sent {report.sent} due message(s) in all.")
    for error in report.errors:
        say(f"  not yet delivered (will be retried): {error}", err=True)


def _moment(text: str, zone) -> datetime:
    """A duration from now (3d), or the end of a time a user names (a date: its end)."""
    now = datetime.now(UTC)
    try:
        return now + parse_duration(text)
    except ValueError:
        pass
    try:
        named = parse_when(text, zone, now=now)
    except ValueError as error:
        raise BadArgument(f"--until: {error}, or a duration from now (6h, 3d)") from None
    return named.end


COMMANDS = (alerts, notify, digest)
