"""The delivery loop: send what the outbox holds and is due, retry failures with capped
exponential backoff for `retry_for` (default 2 days) from the first failure, and record
every attempt's error and next try. A message still undelivered at the end of that time is
marked dead, said so in the log, and announced through every other channel; `crossings
alerts retry` sends it again. A failure is data on the outbox row, never an exception out
of the loop. Synchronous: the daemon runs it in a worker process (open the Store in the
thread that uses it: SQLite connections belong to the thread that made them)."""

import base64
import hashlib
import html
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.channel import RETRY_FOR, Channel
from alerts.message import DeliveryError, Message
from alerts.templates import render
from core import clock
from series.charts import png
from series.drawing import Drawing, metric_chart
from storage import OutboxMessage, Store

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=30)
ALERT_CHART_PERIODS = 180
# While a message is being sent nobody else takes it; a deliverer that dies mid-send
# leaves it to be retried after this long.
LEASE = timedelta(minutes=5)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min ... capped at 30 min."""
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_WAIT)


def deliver_due(
    store: Store,
    channels: Mapping[str, Channel],
    *,
    templates: Path | None = None,
    now: datetime | None = None,
    retry_for: timedelta = RETRY_FOR,
) -> DeliveryReport:
    """Send every due message once (and the notices of messages given up meanwhile);
    return what happened."""
    now = now or datetime.now(UTC)
    report = DeliveryReport()
    while due := store.outbox.claim_due(
        now=clock.to_text(now), lease_until=clock.to_text(now + LEASE)
    ):
        _deliver(store, channels, due, report, templates=templates, now=now, retry_for=retry_for)
    return report


def _deliver(
    store: Store,
    channels: Mapping[str, Channel],
    due: list[OutboxMessage],
    report: DeliveryReport,
    *,
    templates: Path | None,
    now: datetime,
    retry_for: timedelta,
) -> None:
    """Alerts due together for the same channel and group (its `group_by`) go as one
    message; each keeps its own outbox row, marked sent, retried or dead together."""
    for batch in _batches(store, due, channels, now):
        first = batch[0]
        try:
            channel = channels.get(first.channel)
            if channel is None:
                raise DeliveryError(
                    f"channel {first.channel!r} is not in the config: add it back, or the "
                    "message is given up after its retries"
                )
            message = (
                message_for(first, templates, store)
                if len(batch) == 1
                else group_message(batch, templates)
            )
            channel.send(message)
        except DeliveryError as error:
            problem = str(error)
        except Exception as error:  # a template or channel bug must not stop the loop
            log.exception("outbox message %s: unexpected error", first.id)
            problem = f"channel {first.channel!r}: unexpected {type(error).__name__}: {error}"
        else:
            for row in batch:
                store.outbox.mark_sent(row.id, at=clock.now())
            report.sent += len(batch)
            continue
        report.errors.append(problem)
        for row in batch:
            _failed(store, channels, row, problem, report, now=now, retry_for=retry_for)


def _failed(
    store: Store,
    channels: Mapping[str, Channel],
    row: OutboxMessage,
    problem: str,
    report: DeliveryReport,
    *,
    now: datetime,
    retry_for: timedelta,
) -> None:
    since = clock.parse(row.retry_since) if row.retry_since else now
    if now >= since + retry_for:
        store.outbox.mark_dead(row.id, error=problem)
        report.dead += 1
        log.error(
            "outbox message %s (%s) is dead: still failing after %s of retries (%s "
            "attempts); last error: %s. Send it again with `crossings alerts retry %s`",
            row.id, row.subject, retry_for, row.attempts, problem, row.id,
        )  # fmt: skip
        _announce_dead(store, row, problem, channels, now=now)
    else:
        retry = min(now + backoff(row.attempts), since + retry_for)
        store.outbox.mark_failed(
            row.id,
            error=problem,
            retry_at=clock.to_text(retry),
            at=clock.to_text(now),
        )
        report.retrying += 1
        log.warning(
            "outbox message %s attempt %s failed, retrying at %s: %s",
            row.id, row.attempts, clock.to_text(retry), problem,
        )  # fmt: skip


def _batches(
    store: Store, due: list[OutboxMessage], channels: Mapping[str, Channel], now: datetime
) -> list[list[OutboxMessage]]:
    """Due messages in sending order, alert messages of one channel and group together;
    those never tried and younger than their channel's group_wait are put back until it has
    passed (a retried or requeued message has waited already)."""
    batches: dict[tuple, list[OutboxMessage]] = {}
    for row in due:
        channel = channels.get(row.channel)
        event = row.payload.get("event")
        if channel is None or event is None:
            batches[("single", row.id)] = [row]
            continue
        ready = clock.parse(row.created_at) + channel.group_wait
        if row.attempts == 1 and ready > now:  # claimed for its first try
            store.outbox.defer(row.id, until=clock.to_text(ready))
            continue
        group = ("group", row.channel, channel.group_of(event), _companions(row))
        batches.setdefault(group, []).append(row)
    return list(batches.values())


def _companions(row: OutboxMessage) -> str:
    """Who a message may go with: a message never tried, with others never tried; a
    retried one, only with those that failed with it (same first failure), so that it goes
    again as the very message it was, under the same idempotency key, never regrouped
    with a newer alert under a new key; one sent again by `alerts retry`, alone."""
    if row.attempts == 1:
        return "new"
    return row.retry_since or f"alone-{row.id}"


def group_message(rows: list[OutboxMessage], templates: Path | None = None) -> Message:
    """Several alerts in one message: each said in full, in the order they were raised.
    Its idempotency key comes from theirs, so a retried group is recognisably the same;
    each event in it carries its own alert's key too (`_keyed`)."""
    events = [_keyed(row) for row in rows]
    firing = sum(1 for event in events if event.get("status") == "firing")
    subject = f"{len(events)} alerts ({firing} firing): " + "; ".join(
        event.get("title", "") for event in events[:3]
    ) + (" ..." if len(events) > 3 else "")  # fmt: skip
    keys = "|".join(sorted(row.idempotency_key for row in rows))
    return Message(
        subject=subject,
        text=render("alerts.txt", templates, events=events),
        html=render("alerts.html", templates, events=events),
        data={"count": len(events), "events": events},
        idempotency_key="group-" + hashlib.sha256(keys.encode()).hexdigest()[:26],
    )


def _announce_dead(
    store: Store,
    row: OutboxMessage,
    problem: str,
    channels: Mapping[str, Channel],
    *,
    now: datetime,
) -> None:
    """Queue a notice about a message given up through every other channel (a notice
    that dies itself is not announced again: that way lies a loop)."""
    if "undelivered" in row.payload:
        return
    others = [name for name in channels if name != row.channel]
    subject = f"crossings could not deliver an alert through channel {row.channel}"
    text = (
        f"crossings gave up sending this message through channel {row.channel!r}:\n\n"
        f"  {row.subject}\n  queued {row.created_at}, {row.attempts} attempts\n"
        f"  last error: {problem}\n\n"
        f"Fix the channel, then send it again: crossings alerts retry {row.id}\n"
    )
    data = {"undelivered": row.id, "channel": row.channel, "subject": row.subject,
            "error": problem, "attempts": row.attempts}  # fmt: skip
    for name in others:
        store.outbox.enqueue(
            channel=name,
            key=f"undelivered-{row.id}-{name}-{row.attempts}",
            subject=subject,
            payload={
                "undelivered": row.id,
                "message": {"text": text, "html": f"<pre>{html.escape(text)}</pre>", "data": data},
            },
            at=clock.to_text(now),
        )


def message_for(
    row: OutboxMessage, templates: Path | None = None, store: Store | None = None
) -> Message:
    """An event is rendered now (so template fixes apply to queued alerts), with a chart
    of its metric and threshold when the store has the series; a digest was rendered when
    queued and carries its images."""
    if "message" in row.payload:
        ready = row.payload["message"]
        return Message(
            subject=row.subject,
            text=ready["text"],
            html=ready["html"],
            data=ready.get("data", {}),
            idempotency_key=row.idempotency_key,
            images={cid: base64.b64decode(png) for cid, png in ready.get("images", {}).items()},
        )
    event = row.payload["event"]
    images = {}
    if store is not None and (png := _event_chart(store, event)):
        images[f"chart-{row.idempotency_key}@crossings"] = png
    cid = next(iter(images), None)
    return Message(
        subject=row.subject,
        text=render("alert.txt", templates, event=event),
        html=render("alert.html", templates, event=event, chart_src=cid and f"cid:{cid}"),
        data=_keyed(row),
        idempotency_key=row.idempotency_key,
        images=images,
    )


def _keyed(row: OutboxMessage) -> dict:
    """The event as sent, with its alert's idempotency key: the one key it keeps for its
    whole life, alone or in whichever group it goes (docs/alerts.md, Delivery)."""
    return {**row.payload["event"], "idempotency_key": row.idempotency_key}


def _event_chart(store: Store, event: dict) -> bytes | None:
    """The chart of the alert's metric for its rule (the same picture as the web page
    draws): values, what the rule measures, its levels as they were when it fired, and
    the firing periods shaded."""
    drawing = Drawing.from_facts(event)
    if not event.get("metric") or drawing is None:
        return None
    drawn = metric_chart(
        store, event["metric"], [(event["rule"], drawing)], last=ALERT_CHART_PERIODS
    )
    return png(drawn) if len(drawn.periods) >= 2 else None
