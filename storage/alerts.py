"""Alert memory: the state of every (rule, series), how far each rule has read (its cursor),
the events it raised, silences. What a rule reads — values, news, runs — belongs to those
tables (`Observations.changes`, `News.after`, `Runs.finished_after`)."""

import json
import math
from dataclasses import dataclass, field
from typing import Any

from core import clock
from storage.repository import Repository, Row, where

_HISTORICAL_KEYS = ("condition", "value", "period", "historical")
_quoted = json.encoder.encode_basestring_ascii  # json.dumps' own string encoder (C)


@dataclass
class AlertState:
    """Where one rule stands for one series. `period` is the last period evaluated;
    `detail` holds the rule's counters (consecutive periods and the like)."""

    rule: str
    series: str
    state: str = "inactive"
    since: str = ""
    value: float | None = None
    period: str | None = None
    last_notified_at: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Cursor:
    rule: str
    fingerprint: str
    observation_id: int = 0
    news_id: int = 0
    run_finished_at: str = ""


@dataclass(frozen=True)
class Event:
    id: int
    rule: str
    series: str
    kind: str
    at: str
    period: str | None
    summary: str
    payload: dict[str, Any]
    silenced: bool
    historical: bool = False  # found in stored history when the rule first looked
    inhibited_by: str | None = None  # held back while this source was broken


@dataclass(frozen=True)
class Silence:
    id: int
    rule: str
    until: str
    comment: str
    created_at: str


class Alerts(Repository):
    # --- what changed since a rule last looked --------------------------------------------

    def cursor(self, rule: str) -> Cursor | None:
        row = self._one("SELECT * FROM alert_cursors WHERE rule = ?", [rule])
        if row is None:
            return None
        row.pop("evaluated_at")
        return Cursor(**row)

    def cursors(self) -> dict[str, Cursor]:
        """Every rule's cursor, by rule: one query for a thousand rules."""
        rows = self._rows(
            """SELECT rule, fingerprint, observation_id, news_id, run_finished_at
               FROM alert_cursors"""
        )
        return {row["rule"]: Cursor(**row) for row in rows}

    def save_cursor(self, cursor: Cursor, *, at: str) -> None:
        self.db.execute(
            """INSERT INTO alert_cursors (rule, fingerprint, observation_id, news_id,
                   run_finished_at, evaluated_at) VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT(rule) DO UPDATE SET fingerprint = excluded.fingerprint,
                   observation_id = excluded.observation_id, news_id = excluded.news_id,
                   run_finished_at = excluded.run_finished_at,
                   evaluated_at = excluded.evaluated_at""",
            (cursor.rule, cursor.fingerprint, cursor.observation_id, cursor.news_id,
             cursor.run_finished_at, at),
        )  # fmt: skip

    def forget_rule(self, rule: str) -> None:
        """A rule whose definition changed starts afresh: no stale counters or cursor."""
        self.db.execute("DELETE FROM alert_state WHERE rule = ? AND state != 'firing'", [rule])
        self.db.execute("DELETE FROM alert_cursors WHERE rule = ?", [rule])

    def high_water(self) -> tuple[int, int, str]:
        """The newest observation id, news id and run finish time: the next cursors."""
        row = self._aggregate(
            """SELECT (SELECT COALESCE(MAX(id), 0) FROM observations) AS observation_id,
                      (SELECT COALESCE(MAX(id), 0) FROM news) AS news_id,
                      (SELECT COALESCE(MAX(finished_at), '') FROM runs) AS run_finished_at"""
        )
        return row["observation_id"], row["news_id"], row["run_finished_at"]

    def evaluation_due(self, rules: list[str], *, evaluated_before: str) -> bool:
        """Whether evaluating `rules` may find something: one of them never evaluated,
        something stored since the oldest cursor, or a cursor older than
        `evaluated_before`. Cheap: the cursors and three maxima."""
        if not rules:
            return False
        marks = ", ".join("?" * len(rules))
        row = self._one(
            f"""SELECT COUNT(*) AS n, MIN(observation_id) AS observation_id,
                       MIN(news_id) AS news_id, MIN(run_finished_at) AS run_finished_at,
                       MIN(evaluated_at) AS evaluated_at
                FROM alert_cursors WHERE rule IN ({marks})""",
            rules,
        )
        if row is None or row["n"] < len(set(rules)) or row["evaluated_at"] < evaluated_before:
            return True
        observation_id, news_id, run_finished_at = self.high_water()
        return (
            observation_id > row["observation_id"]
            or news_id > row["news_id"]
            or run_finished_at > row["run_finished_at"]
        )

    # --- state ------------------------------------------------------------------------------

    def state(self, rule: str, series: str) -> AlertState | None:
        row = self._one("SELECT * FROM alert_state WHERE rule = ? AND series = ?", [rule, series])
        return _state(row) if row else None

    def states(self, *, rule: str | None = None, state: str | None = None) -> list[AlertState]:
        clause, params = where(("rule = ?", rule), ("state = ?", state))
        rows = self._rows(f"SELECT * FROM alert_state {clause} ORDER BY rule, series", params)
        return [_state(row) for row in rows]

    def save_state(self, state: AlertState) -> None:
        self.db.execute(
            """INSERT INTO alert_state (rule, series, state, since, value, period,
                   last_notified_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(rule, series) DO UPDATE SET state = excluded.state,
                   since = excluded.since, value = excluded.value, period = excluded.period,
                   last_notified_at = excluded.last_notified_at, detail = excluded.detail""",
            (state.rule, state.series, state.state, state.since, state.value, state.period,
             state.last_notified_at, json.dumps(state.detail, sort_keys=True)),
        )  # fmt: skip

    # --- events -----------------------------------------------------------------------------

    def add_event(
        self,
        *,
        rule: str,
        series: str,
        kind: str,
        at: str,
        period: str | None,
        summary: str,
        payload: dict[str, Any],
        key: str,
        silenced: bool,
        historical: bool = False,
        inhibited_by: str | None = None,
    ) -> int | None:
        """Record an event; None when an event with this key exists (already raised)."""
        cursor = self.db.execute(
            """INSERT OR IGNORE INTO events (rule, series, kind, at, period, summary, payload,
                   key, silenced, historical, inhibited_by)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (rule, series, kind, at, period, summary, json.dumps(payload, default=str), key,
             int(silenced), int(historical), inhibited_by),
        )  # fmt: skip
        return cursor.lastrowid if cursor.rowcount == 1 else None

    def add_historical_events(self, rows: list[tuple[Any, ...]]) -> None:
        """Record events found in stored history, many at once: (rule, series, kind, at,
        period, summary, payload, key, silenced) each; one whose key exists is skipped."""
        self.add_encoded_historical_events(encode_historical_events(rows))

    def add_encoded_historical_events(self, rows: list[tuple[Any, ...]]) -> None:
        """`add_historical_events` of rows encoded already (`encode_historical_events`)."""
        self.db.conn.executemany(
            """INSERT OR IGNORE INTO events (rule, series, kind, at, period, summary, payload,
                   key, silenced, historical) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)""",
            rows,
        )

    def events(
        self, *, since: str | None = None, rule: str | None = None, limit: int = 50
    ) -> list[Event]:
        """Newest first."""
        clause, params = where(("at >= ?", since), ("rule = ?", rule))
        rows = self._rows(
            f"SELECT * FROM events {clause} ORDER BY at DESC, id DESC LIMIT ?", [*params, limit]
        )
        return [
            Event(
                id=row["id"],
                rule=row["rule"],
                series=row["series"],
                kind=row["kind"],
                at=row["at"],
                period=row["period"],
                summary=row["summary"],
                payload=json.loads(row["payload"]),
                silenced=bool(row["silenced"]),
                historical=bool(row["historical"]),
                inhibited_by=row["inhibited_by"],
            )
            for row in rows
        ]

    def count_events(self, *, historical: bool) -> int:
        row = self._one("SELECT COUNT(*) AS n FROM events WHERE historical = ?", [int(historical)])
        return row["n"] if row else 0

    def event_kinds(self) -> dict[str, int]:
        """How many events of each kind (firing, resolved, notice, ...) were recorded, the
        historical ones (a backfill, never sent) left out."""
        rows = self._rows(
            "SELECT kind, COUNT(*) AS n FROM events WHERE historical = 0 GROUP BY kind"
        )
        return {row["kind"]: row["n"] for row in rows}

    def firing_history(self, series: str) -> list[tuple[str, str, str | None]]:
        """(rule, 'firing' or 'resolved', period) of a series' events, oldest first:
        what charts shade as firing periods."""
        rows = self._rows(
            """SELECT rule, kind, period FROM events
               WHERE series = ? AND kind IN ('firing', 'resolved') ORDER BY id""",
            [series],
        )
        return [(row["rule"], row["kind"], row["period"]) for row in rows]

    # --- silences ---------------------------------------------------------------------------

    def silence(self, rule: str, *, until: str, comment: str = "") -> int:
        return self._insert(
            "INSERT INTO silences (rule, until, comment, created_at) VALUES (?, ?, ?, ?)",
            (rule, until, comment, clock.now()),
        )

    def silences(self, *, active_at: str | None = None) -> list[Silence]:
        """All silences, or those still in force at `active_at`."""
        clause, params = where(("until > ?", active_at))
        rows = self._rows(f"SELECT * FROM silences {clause} ORDER BY until DESC, id DESC", params)
        return [Silence(**row) for row in rows]

    def unsilence(self, silence_id: int) -> bool:
        cursor = self.db.execute("DELETE FROM silences WHERE id = ?", [silence_id])
        return cursor.rowcount == 1


def encode_historical_events(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Historical events as `add_historical_events` stores them (the payload as JSON):
    done where they are found, by a worker process judging rules (`alerts.parallel`)."""
    return [(*row[:6], _payload_json(row[6]), row[7], int(row[8])) for row in rows]


def _state(row: Row) -> AlertState:
    return AlertState(**{**row, "detail": json.loads(row["detail"])})


def _payload_json(payload: dict[str, Any]) -> str:
    """`json.dumps(payload)`, byte for byte, built from a template for the one shape every
    historical event has (a first look may record 600,000: `json.dumps` was a quarter of
    writing them); any other shape or value goes through `json.dumps`."""
    condition, value, period = payload.get("condition"), payload.get("value"), payload.get("period")
    if (
        tuple(payload) == _HISTORICAL_KEYS
        and payload["historical"] is True
        and type(condition) is str
        and (period is None or type(period) is str)
        and (value is None or (type(value) is float and math.isfinite(value)))
    ):
        shown = "null" if value is None else float.__repr__(value)
        when = "null" if period is None else _quoted(period)
        return (
            f'{{"condition": {_quoted(condition)}, "value": {shown}, "period": {when}, '
            f'"historical": true}}'
        )
    return json.dumps(payload)
