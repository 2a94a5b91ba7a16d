"""Evaluating rules: read what changed since each rule last looked, move each series'
state machine (`alerts.machine`), and write the events and their outbox messages in ONE
transaction — so an alert is never decided without being queued, and evaluating twice
raises nothing twice.

A firing event when a condition starts, a resolved event when it ends (if the rule asks),
a reminder every `repeat_interval` while it lasts. A series met for the first time (a new
rule, a new metric, a new database loaded with years of history) is judged over its whole
stored history: every transition found there is recorded as a *historical* event, never
delivered; only a condition still firing at the end is announced. Rules that watch source
health are evaluated first: while a source is broken, events of rules on its metrics are
recorded as inhibited and not delivered (Alertmanager's inhibit rules)."""

import fnmatch
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from alerts.parallel import Ahead
from alerts.rule import Rule, StatefulRule
from alerts.run import Lookups, RuleRun, evaluation_order
from alerts.view import View
from core import clock
from core.collector import cyclic_gc_paused
from storage import Cursor, Event, Store

log = logging.getLogger(__name__)
# Rule -> the error last logged for it: a rule failing the same way on every evaluation
# is told once with its traceback, then in one line (the daemon's log stays readable).
_FAILING: dict[str, str] = {}


def _log_failure(name: str, error: Exception) -> None:
    said = f"{type(error).__name__}: {error}"
    if _FAILING.get(name) == said:
        log.warning(
            "rule %r still cannot be evaluated (%s); it is tried again next time", name, said
        )
        return
    _FAILING[name] = said
    log.exception("rule %r could not be evaluated; it is tried again next time", name)


def evaluate(
    store: Store,
    rules: Mapping[str, Rule],
    *,
    now: datetime | None = None,
    past: bool = False,
    ahead: Ahead | None = None,
) -> list[Event]:
    """Evaluate every rule over what was stored since it last looked; return the new
    events (silenced and inhibited ones included, marked). Historical events are stored,
    not returned: a first look at twenty years may find thousands. `past`: what was stored
    is the past (a backfill from a web archive): every event is historical, none is sent.
    `ahead`: rules a worker judged meanwhile (`alerts.parallel.judging`, same `now`)."""
    now = now or datetime.now(UTC)
    at = clock.to_text(now)
    with cyclic_gc_paused(), store.transaction():
        high = store.alerts.high_water()
        cursors = {name: _cursor(store, rule, high, past) for name, rule in rules.items()}
        if not cursors:
            return []
        view = View(
            store,
            now=now,
            since_news=min(c.news_id for c in cursors.values()),
            since_run=min(c.run_finished_at for c in cursors.values()),
            reads={name: rule.reads() for name, rule in rules.items()},
        )
        silences = [s.rule for s in store.alerts.silences(active_at=at)]
        raised: list[Event] = []
        lookups = Lookups(store)
        broken: set[str] | None = None  # sources broken now, once health rules have run
        for name, rule in evaluation_order(rules):
            if broken is None and not rule.inhibits:
                broken = _broken(store, rules)
            silenced = any(fnmatch.fnmatchcase(name, pattern) for pattern in silences)
            run = RuleRun(store, rule, lookups, at=at, silenced=silenced, broken=broken or set())
            run.past = past
            try:
                with store.transaction():  # a savepoint: one failing rule spares the others
                    judged = ahead.take(name, cursors[name], silenced, view) if ahead else None
                    if judged is None:
                        run.observe(view, cursors[name])
                    else:
                        run.replay(judged)
                    run.save(now)
                    store.alerts.save_cursor(Cursor(name, cursors[name].fingerprint, *high), at=at)
                _FAILING.pop(name, None)
            except Exception as error:
                _log_failure(name, error)
                run = RuleRun(store, rule, lookups, at=at, silenced=silenced, broken=set())
                with store.transaction():
                    run.failed(error)
            raised += run.raised
            if run.history:
                log.info("rule %s: %d past transitions recorded as history (not sent)",
                         name, run.history)  # fmt: skip
    for event in raised:
        marks = " (silenced)" * event.silenced
        marks += f" (inhibited: {event.inhibited_by} is broken)" * bool(event.inhibited_by)
        log.info("alert %s: %s%s", event.kind, event.summary, marks)
    return raised


def _broken(store: Store, rules: Mapping[str, Rule]) -> set[str]:
    """Sources that an inhibiting rule (source health) has firing now."""
    return {
        state.series
        for name, rule in rules.items()
        if rule.inhibits
        for state in store.alerts.states(rule=name, state="firing")
    }


def _cursor(store: Store, rule: Rule, high: tuple[int, int, str], past: bool) -> Cursor:
    """The rule's cursor; a new or edited rule starts over. One-off rules (revisions,
    news) start at the present: they announce what happens from now on, not the past -
    unless what is evaluated is the past (a backfill), recorded as history."""
    fingerprint = rule.fingerprint()
    cursor = store.alerts.cursor(rule.name)
    if cursor is not None and cursor.fingerprint == fingerprint:
        return cursor
    if cursor is not None:
        store.alerts.forget_rule(rule.name)
    if isinstance(rule, StatefulRule) or past:
        return Cursor(rule.name, fingerprint)
    return Cursor(rule.name, fingerprint, *high)
