"""What follows every crawl, by hand (`crossings crawl`) or by the daemon: recompute the
derived metrics whose inputs changed, evaluate the rules over what was just stored, then
deliver what the outbox holds. Nothing here can undo the crawl: an alert that cannot be
sent stays in the outbox for the next try."""

from dataclasses import dataclass
from datetime import datetime

from alerts.delivery import DeliveryReport, deliver_due
from alerts.engine import evaluate
from jobs.config import Config
from series.derived import derive
from storage import Event, Store


@dataclass(frozen=True)
class Aftermath:
    events: list[Event]
    delivery: DeliveryReport


def after_crawl(config: Config, store: Store, *, now: datetime | None = None) -> Aftermath:
    """Recompute derived metrics, evaluate every rule, then send every due message
    (retries included)."""
    derive(store, config.metrics)
    events = evaluate(store, config.rules, now=now)
    return Aftermath(events, deliver(config, store, now=now))


def deliver(config: Config, store: Store, *, now: datetime | None = None) -> DeliveryReport:
    """Send every due message (retries included) through the config's channels, retried
    for as long as its settings say."""
    return deliver_due(
        store,
        config.channels,
        templates=config.templates,
        now=now,
        retry_for=config.settings.retry_alerts_for,
    )
