"""Backtesting: replay a rule over the stored history of every series it watches and list
each firing and resolution with its period and value — sending nothing, writing nothing.
The same judgement (`judge`) and state machine (`alerts.machine`) as the engine, so a
backtest finds the days that evaluating after every crawl would have found."""

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from alerts.machine import advance_all
from alerts.rule import Rule
from alerts.rules.series import ReplayedRule
from alerts.view import View
from core.errors import CrossingsError
from storage import AlertState, Store


@dataclass(frozen=True)
class Crossing:
    series: str
    kind: str  # firing | resolved | nodata
    period: str
    value: float | None
    says: str


class NotReplayable(CrossingsError, ValueError):
    """The rule's kind does not judge stored series period by period."""


def backtest(store: Store, rule: Rule) -> Iterator[Crossing]:
    """Every transition of `rule` over stored history, series by series (in name order),
    oldest first."""
    if not isinstance(rule, ReplayedRule):
        raise NotReplayable(
            f"rule {rule.name!r} is a {rule.kind!r} rule: only rules over series "
            "(threshold, change) can be backtested"
        )
    now = datetime.now(UTC)
    view = View(store, now=now, since_news=0, since_run="")
    at = "backtest"
    for metric in store.queries.metric_names():
        if not fnmatch.fnmatchcase(metric, rule.metric):
            continue
        state = AlertState(rule.name, metric, since=at)
        for change in advance_all(state, rule.replay(metric, None, view), rule, at):
            yield Crossing(metric, change.kind, change.period, change.step.value, change.says)
