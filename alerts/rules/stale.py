"""Stale: a metric that has had no new period for longer than a deadline (a source that
stopped publishing, or a parser that stopped finding it)."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from alerts.rule import StatefulRule, StateOf, Step
from alerts.view import View
from core import clock
from storage import Cursor


@dataclass(frozen=True, kw_only=True)
class Stale(StatefulRule, kind="stale"):
    """No new period of a metric within a deadline, e.g. 45 days."""

    metric: str = field(metadata={"help": "The metric name or a pattern such as 'trac.*'."})
    after: timedelta = field(
        default=timedelta(days=45), metadata={"help": "How long without a new period, e.g. '45d'."}
    )

    def reads(self) -> tuple[str, ...]:
        return (self.metric,)

    def observe(self, view: View, cursor: Cursor, state_of: StateOf) -> Iterator[Step]:
        known = {state.series for state in view.store.alerts.states(rule=self.name)}
        for metric in sorted(known | set(view.changed_metrics(self.metric, cursor.observation_id))):
            arrival = view.latest_arrival(metric)
            if arrival is None:
                continue
            period, first_seen = arrival
            age = view.now - clock.parse(first_seen)
            fire = age > self.after
            yield Step.either(
                series=metric,
                period=period,
                fire=fire,
                value=None,
                says=(
                    f"no new period for {age.days} days (latest {period}, first seen "
                    f"{first_seen[:10]}; deadline {self.after.days} days)"
                ),
                facts={"latest_period": period, "first_seen": first_seen, "age_days": age.days},
            )
