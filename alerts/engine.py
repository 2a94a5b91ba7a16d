"""Evaluating rules: read what changed since each rule last looked, move each series'
state machine, and write the events and their outbox messages in ONE transaction — so an
alert is never decided without being queued, and evaluating twice raises nothing twice.

State per (rule, series): inactive -> firing -> resolved (-> firing again ...). A firing
event when it starts, a resolved event when it ends (if the rule asks), a reminder every
`repeat_interval` while it lasts. A series met for the first time (a new rule, a new
metric) is replayed quietly: only a condition that still holds when the replay ends is
announced, never old history."""

import fnmatch
import hashlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from alerts.rule import Notice, Rule, StatefulRule, Step
from alerts.view import View
from storage import AlertState, Cursor, Event, Store, clock
from storage.formatting import moment

log = logging.getLogger(__name__)

STATUS_WORDS = {
    "firing": "firing",
    "resolved": "resolved",
    "reminder": "still firing",
    "notice": "notice",
}


def evaluate(
    store: Store, rules: Mapping[str, Rule], *, now: datetime | None = None
) -> list[Event]:
    """Evaluate every rule over what was stored since it last looked; return the new
    events (silenced ones included, marked)."""
    now = now or datetime.now(UTC)
    at = clock.to_text(now)
    with store.transaction():
        high = store.alerts.high_water()
        cursors = {name: _cursor(store, rule, high) for name, rule in rules.items()}
        if not cursors:
            return []
        view = View(
            store,
            now=now,
            since_observation=min(c.observation_id for c in cursors.values()),
            since_news=min(c.news_id for c in cursors.values()),
            since_run=min(c.run_finished_at for c in cursors.values()),
        )
        silences = [s.rule for s in store.alerts.silences(active_at=at)]
        raised: list[Event] = []
        for name, rule in rules.items():
            silenced = any(fnmatch.fnmatchcase(name, pattern) for pattern in silences)
            run = _RuleRun(store, rule, at=at, silenced=silenced)
            try:
                with store.transaction():  # a savepoint: one failing rule spares the others
                    for found in rule.observe(view, cursors[name], run.state_of):
                        if isinstance(found, Notice):
                            run.notice(found)
                        else:
                            run.step(found)
                    run.finish(now)
                    store.alerts.save_cursor(Cursor(name, cursors[name].fingerprint, *high), at=at)
            except Exception:
                log.exception("rule %r could not be evaluated; it is tried again next time", name)
                continue
            raised += run.raised
    for event in raised:
        log.info("alert %s: %s%s", event.kind, event.summary, " (silenced)" * event.silenced)
    return raised


def _cursor(store: Store, rule: Rule, high: tuple[int, int, str]) -> Cursor:
    """The rule's cursor; a new or edited rule starts over. One-off rules (revisions,
    news) start at the present: they announce what happens from now on, not the past."""
    fingerprint = rule.fingerprint()
    cursor = store.alerts.cursor(rule.name)
    if cursor is not None and cursor.fingerprint == fingerprint:
        return cursor
    if cursor is not None:
        store.alerts.forget_rule(rule.name)
    if isinstance(rule, StatefulRule):
        return Cursor(rule.name, fingerprint)
    return Cursor(rule.name, fingerprint, *high)


class _RuleRun:
    """One rule's evaluation: its states as loaded, moved, and saved at the end."""

    def __init__(self, store: Store, rule: Rule, *, at: str, silenced: bool) -> None:
        self.store, self.rule, self.at, self.silenced = store, rule, at, silenced
        self.states: dict[str, AlertState] = {}
        self.fresh: dict[str, Step | None] = {}  # first met: replayed quietly
        self.raised: list[Event] = []

    def state_of(self, series: str) -> AlertState:
        if series not in self.states:
            state = self.store.alerts.state(self.rule.name, series)
            if state is None:
                state = AlertState(self.rule.name, series, since=self.at)
                self.fresh[series] = None
            self.states[series] = state
        return self.states[series]

    def step(self, step: Step) -> None:
        assert isinstance(self.rule, StatefulRule)
        state = self.state_of(step.series)
        change = _advance(state, step, self.rule, self.at)
        state.detail.update(step.remember)
        if change is None:
            return
        if step.series in self.fresh:
            self.fresh[step.series] = step if change == "firing" else None
            return
        self._announce(state, change, step)

    def notice(self, notice: Notice) -> None:
        state = self.state_of(notice.series)
        state.value, state.period, state.last_notified_at = notice.value, notice.period, self.at
        self._raise(
            "notice", notice.series, notice.period, notice.value, notice.says, notice.facts,
            notice.snapshot_id, key=notice.key,
        )  # fmt: skip

    def finish(self, now: datetime) -> None:
        for series, step in self.fresh.items():
            if step is not None and self.states[series].state == "firing":
                self._announce(self.states[series], "firing", step)
        for state in self.states.values():
            self.store.alerts.save_state(state)
        if self.rule.repeat_interval is not None:
            self._remind(now)

    def _announce(self, state: AlertState, change: str, step: Step) -> None:
        if change == "firing":
            state.last_notified_at = self.at
        says = step.says
        resolve_for = getattr(self.rule, "resolve_for", 1)
        if change == "resolved" and resolve_for > 1:
            says += f" ({resolve_for} periods in a row)"
        self._raise(
            change, step.series, step.period, step.value, says, step.facts, step.snapshot_id,
            key=f"{change}|{step.period}", notify=change == "firing" or self.rule.send_resolved,
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
                "reminder", state.series, state.period, state.value,
                f"still firing since {moment(state.since)}", {}, None,
                key=f"reminder|{self.at}",
            )  # fmt: skip

    def _raise(
        self,
        kind: str,
        series: str,
        period: str | None,
        value: float | None,
        says: str,
        facts: dict,
        snapshot_id: int | None,
        *,
        key: str,
        notify: bool = True,
    ) -> None:
        rule = self.rule
        summary = f"{rule.title}: {says}"
        if kind != "firing":
            summary = f"[{STATUS_WORDS[kind]}] {summary}"
        payload = _payload(self.store, rule, kind, series, period, value, says, facts, snapshot_id)
        payload.update(summary=summary, at=self.at)
        event_key = f"{rule.name}|{series}|{key}"
        event_id = self.store.alerts.add_event(
            rule=rule.name, series=series, kind=kind, at=self.at, period=period,
            summary=summary, payload=payload, key=event_key, silenced=self.silenced,
        )  # fmt: skip
        if event_id is None:
            return
        if notify and not self.silenced:
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
                  self.silenced)
        )  # fmt: skip


def _advance(state: AlertState, step: Step, rule: StatefulRule, at: str) -> str | None:
    """Count consecutive periods and move the state; return 'firing' or 'resolved' when
    the state changes. A period judged again (the same latest period, a later clock)
    replaces its own judgement instead of counting twice."""
    counts = state.detail
    same = step.period == state.period

    def streak(name: str, holds: bool) -> int:
        if not holds:
            return 0
        count = counts.get(name, 0)
        return max(count, 1) if same else count + 1

    if state.state == "firing":
        counts["fire_run"], counts["clear_run"] = 0, streak("clear_run", step.clear)
        change = "resolved" if counts["clear_run"] >= rule.resolve_for else None
    else:
        counts["clear_run"], counts["fire_run"] = 0, streak("fire_run", step.fire)
        change = "firing" if counts["fire_run"] >= rule.for_periods else None
    state.value, state.period = step.value, step.period
    if change is not None:
        state.state, state.since = change, at
        counts["fire_run"] = counts["clear_run"] = 0
    return change


def _payload(
    store: Store,
    rule: Rule,
    kind: str,
    series: str,
    period: str | None,
    value: float | None,
    says: str,
    facts: dict,
    snapshot_id: int | None,
) -> dict:
    """What an alert must say: what crossed what, with the metric's label, and where the
    number came from (source, link, when fetched, snapshot)."""
    metric = store.catalog.metric(series)
    provenance = store.snapshots.provenance(snapshot_id)
    source_name = provenance.get("source") or (metric.source if metric else "") or ""
    source = store.catalog.source(source_name) if source_name else store.catalog.source(series)
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
        "value": value,
        "condition": says,
        "labels": dict(rule.labels),
        "source": {
            "name": source.name if source else source_name,
            "title": (source.title or source.name) if source else source_name,
            "url": source.url if source else "",
        },
        "snapshot": {
            "id": snapshot_id,
            "url": provenance.get("url"),
            "fetched_at": provenance.get("fetched_at"),
        },
        **(drawing.facts() if drawing else {}),
        "levels_words": ", ".join(level.words for level in drawing.levels) if drawing else "",
        **facts,
    }
