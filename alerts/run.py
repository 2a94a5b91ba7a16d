"""One rule's evaluation (`RuleRun`): its states loaded, moved by what the rule observed,
its events raised (historical ones in batches) and its states saved — the part of
`alerts.engine.evaluate` done per rule, whether the judging happened here or in a worker
process (`alerts.parallel`)."""

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from alerts.machine import Transition, advance, advance_all
from alerts.rule import Judged, Notice, Rule, StatefulRule, Step
from alerts.view import View
from core import clock
from core.formatting import moment
from storage import AlertState, Cursor, Event, Store

STATUS_WORDS = {
    "firing": "firing",
    "resolved": "resolved",
    "reminder": "still firing",
    "notice": "notice",
    "nodata": "no data",
    "error": "cannot evaluate",
}


def evaluation_order(rules: Mapping[str, Rule]) -> list[tuple[str, Rule]]:
    """Rules that watch source health first (while a source is broken, the others'
    events on it are held back), then the rest as configured."""
    return sorted(rules.items(), key=lambda item: not item[1].inhibits)


class Lookups:
    """What alerts say about a series or snapshot, read once per evaluation (a rule's
    first look at twenty years may record hundreds of events for one series)."""

    def __init__(self, store: Store) -> None:
        self.metric = cache(store.catalog.metric)
        self.provenance = cache(store.snapshots.provenance)
        self.source = cache(store.catalog.source)


@dataclass(slots=True)
class Alert:
    """An event to raise: what happened to which series, in words, and how it is told.
    `facts` (for templates) may be a function: a historical event never needs them.
    (Not frozen: a frozen init sets each field through `object.__setattr__`, and a first
    look raises 600,000 of these.)"""

    kind: str
    series: str
    period: str | None
    value: float | None
    says: str
    key: str
    facts: dict | Callable[[], dict] = field(default_factory=dict)
    snapshot_id: int | None = None
    notify: bool = True
    historical: bool = False


@dataclass(frozen=True)
class Judgement:
    """One rule judged by a worker process (`alerts.parallel`): what it found, in order
    (batches of historical events, events to tell), and the states as moved."""

    found: list[list[tuple] | Alert]  # historical events encoded for storage, or one to tell
    states: dict[str, AlertState]


HISTORY_BATCH = 10_000  # historical events written at once (a first look may find 600,000)


class RuleRun:
    """One rule's evaluation: its states as loaded, moved, and saved at the end."""

    def __init__(
        self,
        store: Store,
        rule: Rule,
        lookups: Lookups,
        *,
        at: str,
        silenced: bool,
        broken: set[str],
    ) -> None:
        self.store, self.rule, self.at, self.silenced = store, rule, at, silenced
        self.lookups = lookups
        self.broken = broken
        self.states: dict[str, AlertState] = {}
        self.fresh: dict[str, list[Transition]] = {}  # first met: history, told at the end
        self.raised: list[Event] = []
        self.history = 0  # historical events recorded
        self.history_rows: list[tuple] = []  # ... and not yet written
        self.past = False  # everything found is history (a backfill's): nothing is sent

    def state_of(self, series: str) -> AlertState:
        if series not in self.states:
            state = self.store.alerts.state(self.rule.name, series)
            if state is None:
                state = AlertState(self.rule.name, series, since=self.at)
                self.fresh[series] = []
            self.states[series] = state
        return self.states[series]

    def step(self, step: Step) -> None:
        assert isinstance(self.rule, StatefulRule)
        state = self.state_of(step.series)
        changes = advance(state, step, self.rule, self.at)
        state.detail.update(step.remember)
        self._changed(state, changes)

    def judged(self, judged: Judged) -> None:
        assert isinstance(self.rule, StatefulRule)
        state = self.state_of(judged.series)
        self._changed(state, advance_all(state, judged, self.rule, self.at))

    def _changed(self, state: AlertState, changes: list[Transition]) -> None:
        if state.series in self.fresh:
            self.fresh[state.series] += changes
            return
        for change in changes:
            self._announce(state, change)

    def notice(self, notice: Notice) -> None:
        state = self.state_of(notice.series)
        state.value, state.period, state.last_notified_at = notice.value, notice.period, self.at
        self._raise(
            Alert("notice", notice.series, notice.period, notice.value, notice.says,
                  key=notice.key, facts=notice.facts, snapshot_id=notice.snapshot_id)
        )  # fmt: skip

    def observe(self, view: View, cursor: Cursor) -> None:
        """What the rule observed since `cursor`, through the state machine. History
        first met is recorded as such; a condition still firing at its end is the
        present, and announced."""
        for found in self.rule.observe(view, cursor, self.state_of):
            if isinstance(found, Notice):
                self.notice(found)
            elif isinstance(found, Judged):
                self.judged(found)
            else:
                self.step(found)
        for series, changes in self.fresh.items():
            state = self.states[series]
            live = None
            if state.state == "firing":
                live = max((i for i, c in enumerate(changes) if c.kind == "firing"), default=None)
            for i, change in enumerate(changes):
                self._announce(state, change, historical=i != live)
        self._write_history()

    def replay(self, judged: Judgement) -> None:
        """Write what `observe` found elsewhere (a worker process), in the order found."""
        for item in judged.found:
            if isinstance(item, list):
                self.store.alerts.add_encoded_historical_events(item)
                self.history += len(item)
            else:
                self._tell(item)
        self.states = judged.states

    def save(self, now: datetime) -> None:
        """Save the states as moved; remind of what still fires."""
        for state in self.states.values():
            self.store.alerts.save_state(state)
        if self.rule.repeat_interval is not None:
            self._remind(now)

    def failed(self, error: Exception) -> None:
        """The rule's `on_error` policy, after its evaluation failed and was undone."""
        policy = getattr(self.rule, "on_error", "keep")
        says = f"could not be evaluated: {type(error).__name__}: {error}"
        if policy == "alert":
            digest = hashlib.sha256(says.encode()).hexdigest()[:12]
            self._raise(Alert("error", "*", None, None, says, key=f"error|{digest}"))
        elif policy == "resolve":
            for state in self.store.alerts.states(rule=self.rule.name, state="firing"):
                state.state, state.since = "resolved", self.at
                self.store.alerts.save_state(state)
                self._raise(
                    Alert("resolved", state.series, state.period, state.value, says,
                          key=f"resolved|error|{self.at}", notify=self.rule.send_resolved)
                )  # fmt: skip

    def _announce(self, state: AlertState, change: Transition, *, historical: bool = False) -> None:
        if change.kind == "firing" and not historical:
            state.last_notified_at = self.at
        step = change.step
        self._raise(
            Alert(change.kind, step.series, change.period, step.value, change.says,
                  key=f"{change.kind}|{change.period}", facts=step.details,
                  snapshot_id=step.snapshot_id, historical=historical,
                  notify=change.kind != "resolved" or self.rule.send_resolved)
        )  # fmt: skip

    def _remind(self, now: datetime) -> None:
        assert self.rule.repeat_interval is not None
        for state in self.store.alerts.states(rule=self.rule.name, state="firing"):
            last = clock.parse(state.last_notified_at or state.since)
            if now - last < self.rule.repeat_interval:
                continue
            state.last_notified_at = self.at
            self.store.alerts.save_state(state)
            self._raise(
                Alert("reminder", state.series, state.period, state.value,
                      f"still firing since {moment(state.since)}", key=f"reminder|{self.at}")
            )  # fmt: skip

    def _raise(self, alert: Alert) -> None:
        if alert.historical or self.past or self._archived(alert.snapshot_id):
            # recorded briefly, never sent nor returned
            rule, series, kind, period = self.rule, alert.series, alert.kind, alert.period
            summary, event_key = self._said(alert)
            self.history += 1
            told = {"condition": alert.says, "value": alert.value, "period": period,
                    "historical": True}  # fmt: skip
            self.history_rows.append(
                (rule.name, series, kind, self.at, period, summary, told, event_key,
                 self.silenced)
            )  # fmt: skip
            if len(self.history_rows) >= HISTORY_BATCH:
                self._write_history()
            return
        self._write_history()  # events keep the order they were raised in (charts read it)
        self._tell(alert)

    def _said(self, alert: Alert) -> tuple[str, str]:
        """An event's summary and key."""
        summary = f"{self.rule.title}: {alert.says}"
        if alert.kind != "firing":
            summary = f"[{STATUS_WORDS[alert.kind]}] {summary}"
        return summary, f"{self.rule.name}|{alert.series}|{alert.key}"

    def _tell(self, alert: Alert) -> None:
        """Record an event to send (unless silenced or inhibited) and queue its messages."""
        rule, series, kind, period = self.rule, alert.series, alert.kind, alert.period
        summary, event_key = self._said(alert)
        facts = alert.facts if isinstance(alert.facts, dict) else alert.facts()
        payload = _payload(self.lookups, rule, alert, facts)
        payload.update(summary=summary, at=self.at, historical=False)
        inhibited_by = None
        if not rule.inhibits and payload["source"]["name"] in self.broken:
            inhibited_by = payload["source"]["name"]
        event_id = self.store.alerts.add_event(
            rule=rule.name, series=series, kind=kind, at=self.at, period=period,
            summary=summary, payload=payload, key=event_key, silenced=self.silenced,
            inhibited_by=inhibited_by,
        )  # fmt: skip
        if event_id is None:
            return
        if alert.notify and not (self.silenced or inhibited_by):
            for channel in rule.channels:
                self.store.outbox.enqueue(
                    channel=channel,
                    key=hashlib.sha256(f"{event_key}|{channel}".encode()).hexdigest()[:32],
                    subject=summary,
                    payload={"event": {**payload, "id": event_id}},
                    at=self.at,
                    event_id=event_id,
                )
        self.raised.append(
            Event(event_id, rule.name, series, kind, self.at, period, summary, payload,
                  self.silenced, False, inhibited_by)
        )  # fmt: skip

    def _archived(self, snapshot_id: int | None) -> bool:
        """Whether an event is about a capture read from a web archive: the past, even
        when a running daemon evaluates it before the backfill's own evaluation does."""
        provenance = self.lookups.provenance(snapshot_id)
        return provenance is not None and provenance.archive is not None

    def _write_history(self) -> None:
        if self.history_rows:
            self.store.alerts.add_historical_events(self.history_rows)
            self.history_rows.clear()


def _payload(lookups: Lookups, rule: Rule, alert: Alert, facts: dict) -> dict:
    """What an alert must say: what crossed what, with the metric's label, and where the
    number came from (source, link, when fetched, snapshot)."""
    kind, series, period, snapshot_id = alert.kind, alert.series, alert.period, alert.snapshot_id
    metric = lookups.metric(series)
    provenance = lookups.provenance(snapshot_id)
    fetched_from = provenance.source if provenance else ""
    source_name = fetched_from or (metric.source if metric else "") or ""
    source = lookups.source(source_name or series)
    drawing = rule.drawing() if rule.watches(series) else None
    return {
        "rule": rule.name,
        "rule_kind": rule.kind,
        "title": rule.title,
        "status": kind,
        "status_words": STATUS_WORDS[kind],
        "series": series,
        "metric": series if metric or snapshot_id else None,
        "metric_label": (metric.label if metric else "") or series,
        "unit": metric.unit if metric else "",
        "period": period,
        "value": alert.value,
        "condition": alert.says,
        "labels": dict(rule.labels),
        "source": {
            "name": source.name if source else source_name,
            "title": (source.title or source.name) if source else source_name,
            "url": source.url if source else "",
        },
        "snapshot": {
            "id": snapshot_id,
            "url": provenance.url if provenance else None,
            "fetched_at": provenance.fetched_at if provenance else None,
        },
        **(drawing.facts() if drawing else {}),
        "levels_words": ", ".join(level.words for level in drawing.levels) if drawing else "",
        **facts,
    }
