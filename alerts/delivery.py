"""The delivery loop: send what the outbox holds and is due, retry failures with
exponential backoff, record every attempt's error, and after `max_attempts` mark the
message dead and say so in the log. A failure is data on the outbox row, never an
exception out of the loop. Synchronous: the daemon runs it in a worker thread (open the
Store in that thread: SQLite connections belong to the thread that made them)."""

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.channel import Channel
from alerts.charts import png
from alerts.drawing import Drawing, metric_chart
from alerts.message import DeliveryError, Message
from alerts.templates import render
from storage import OutboxMessage, Store, clock

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=2)
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
    """30 s, 1 min, 2 min, 4 min ... capped at 2 h."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)


def deliver_due(
    store: Store,
    channels: Mapping[str, Channel],
    *,
    templates: Path | None = None,
    now: datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> DeliveryReport:
    """Send every due message once; return what happened."""
    now = now or datetime.now(UTC)
    report = DeliveryReport()
    due = store.outbox.claim_due(now=clock.to_text(now), lease_until=clock.to_text(now + LEASE))
    for row in due:
        try:
            channel = channels.get(row.channel)
            if channel is None:
                raise DeliveryError(
                    f"channel {row.channel!r} is not in the config: add it back, or the "
                    "message is given up after its retries"
                )
            channel.send(message_for(row, templates, store))
        except DeliveryError as error:
            problem = str(error)
        except Exception as error:  # a template or channel bug must not stop the loop
            log.exception("outbox message %s: unexpected error", row.id)
            problem = f"channel {row.channel!r}: unexpected {type(error).__name__}: {error}"
        else:
            store.outbox.mark_sent(row.id, at=clock.now())
            report.sent += 1
            continue
        report.errors.append(problem)
        if row.attempts >= max_attempts:
            store.outbox.mark_dead(row.id, error=problem)
            report.dead += 1
            log.error(
                "outbox message %s (%s) is dead after %s attempts; last error: %s",
                row.id, row.subject, row.attempts, problem,
            )  # fmt: skip
        else:
            retry = now + backoff(row.attempts)
            store.outbox.mark_failed(row.id, error=problem, retry_at=clock.to_text(retry))
            report.retrying += 1
            log.warning(
                "outbox message %s attempt %s failed, retrying at %s: %s",
                row.id, row.attempts, clock.to_text(retry), problem,
            )  # fmt: skip
    return report


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
        data=event,
        idempotency_key=row.idempotency_key,
        images=images,
    )


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
