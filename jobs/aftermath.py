"""What follows every crawl, by hand (`crossings crawl`) or by the daemon: recompute the
derived metrics whose inputs changed, evaluate the rules over what was just stored, then
deliver what the outbox holds. Nothing here can undo the crawl: an alert that cannot be
sent stays in the outbox for the next try."""

from dataclasses import dataclass
from datetime import UTC, datetime

from alerts.delivery import DeliveryReport, deliver_due
from alerts.engine import evaluate
from alerts.parallel import judging
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
    events = derive_and_evaluate(config, store, now=now)
    return Aftermath(events, deliver(config, store, now=now))


def derive_and_evaluate(
    config: Config, store: Store, *, now: datetime | None = None
) -> list[Event]:
    """Recompute derived metrics (rules may watch them), then evaluate every rule. When
    there is much to judge (a first look at years of history), the rules on stored
    metrics alone are judged meanwhile on the second core (`alerts.parallel`)."""
    now = now or datetime.now(UTC)
    with judging(store, config.rules, now=now, skip=config.metrics) as ahead:
        derive(store, config.metrics)
        return evaluate(store, config.rules, now=now, ahead=ahead)


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
