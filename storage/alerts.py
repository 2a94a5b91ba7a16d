"""Alert memory: the state of every (rule, series), how far each rule has read, the events
it raised, silences — and the narrow reads rule evaluation needs. Those reads touch only
what changed since a rule's cursor and the few periods a window needs, so evaluation after
a crawl costs what the crawl added, not the size of the history."""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from storage import clock
from storage.news import NewsItem, news_item
from storage.observations import IN_CHUNK, Point, _point
from storage.repository import Repository


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
    detail: dict = field(default_factory=dict)


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
    payload: dict
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
        row = self._one(
            """SELECT (SELECT COALESCE(MAX(id), 0) FROM observations) AS observation_id,
                      (SELECT COALESCE(MAX(id), 0) FROM news) AS news_id,
                      (SELECT COALESCE(MAX(finished_at), '') FROM runs) AS run_finished_at"""
        )
        return row["observation_id"], row["news_id"], row["run_finished_at"]

    def changed_metrics(self, after_id: int) -> dict[str, int]:
        """Metrics with a value stored after observation `after_id`, with their newest id
        (a rowid range: cheap however long the history)."""
        # NOT INDEXED: left alone, SQLite walks a whole (metric, ...) index to group.
        rows = self.db.execute(
            "SELECT metric, MAX(id) FROM observations NOT INDEXED WHERE id > ? GROUP BY metric",
            [after_id],
        ).fetchall()
        return dict(rows)

    def changes(self, metric: str, after_id: int) -> list[dict]:
        """Vintages of a metric stored after `after_id`, each with the value it replaced
        (`old_value` is None for a new period)."""
        return self._rows(
            """SELECT new.id, new.period, new.value, new.snapshot_id, new.first_seen,
                      old.value AS old_value, old.first_seen AS old_first_seen
               FROM observations new LEFT JOIN observations old ON old.id = new.previous_id
               WHERE new.metric = ? AND new.id > ? ORDER BY new.id""",
            [metric, after_id],
        )

    # --- the few periods a rule needs --------------------------------------------------------

    def tail(self, metric: str, *, after: str | None, before: int) -> list[Point]:
        """Current values for the periods after `after` (all if None: then only the last
        `before` + 1), preceded by the `before` periods up to `after`. Oldest first."""
        columns = "SELECT * FROM observations WHERE metric = ? AND superseded_at IS NULL"
        if after is None:
            rows = self._rows(f"{columns} ORDER BY period DESC LIMIT ?", [metric, before + 1])
            return [_point(row) for row in reversed(rows)]
        earlier = self._rows(
            f"{columns} AND period <= ? ORDER BY period DESC LIMIT ?", [metric, after, before]
        )
        later = self._rows(f"{columns} AND period > ? ORDER BY period", [metric, after])
        return [_point(row) for row in [*reversed(earlier), *later]]

    def points_at(self, metric: str, periods: Iterable[str]) -> dict[str, Point]:
        """Current values of named periods (a year earlier, say)."""
        wanted, found = sorted(set(periods)), {}
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in self._rows(
                f"""SELECT * FROM observations WHERE metric = ? AND superseded_at IS NULL
                    AND period IN ({marks})""",
                [metric, *chunk],
            ):
                found[row["period"]] = _point(row)
        return found

    def latest_arrival(self, metric: str) -> tuple[str, str] | None:
        """The newest period of a metric and when it first appeared (revisions of it later
        do not count as new data)."""
        row = self._one(
            """SELECT period, MIN(first_seen) AS first_seen FROM observations
               WHERE metric = ? AND period = (SELECT MAX(period) FROM observations
                                              WHERE metric = ? AND superseded_at IS NULL)""",
            [metric, metric],
        )
        return (row["period"], row["first_seen"]) if row and row["period"] else None

    def news_after(self, after_id: int) -> list[NewsItem]:
        rows = self._rows("SELECT * FROM news WHERE id > ? ORDER BY id", [after_id])
        return [news_item(row) for row in rows]

    def runs_finished_after(self, after: str) -> list[dict]:
        """Runs that ended after `after`, in the order they ended."""
        return self._rows(
            "SELECT * FROM runs WHERE finished_at > ? ORDER BY finished_at, id", [after]
        )

    def provenance(self, snapshot_id: int | None) -> dict:
        """Where a value came from: the fetch (URL, time) and the configured source."""
        if snapshot_id is None:
            return {}
        row = self._one(
            """SELECT s.id AS snapshot_id, s.url, s.fetched_at, s.source,
                      src.title AS source_title, src.url AS source_url
               FROM snapshots s LEFT JOIN sources src ON src.name = s.source WHERE s.id = ?""",
            [snapshot_id],
        )
        return row or {}

    def arrivals(self, *, since: str, until: str, limit: int = 1000) -> list[dict]:
        """Values first stored in [since, until): new periods (old_value None) and
        revisions (with the value they replaced), by metric and period."""
        return self._rows(
            """SELECT new.metric, new.period, new.value, new.first_seen, new.snapshot_id,
                      old.value AS old_value
               FROM observations new LEFT JOIN observations old ON old.id = new.previous_id
               WHERE new.first_seen >= ? AND new.first_seen < ?
               ORDER BY new.metric, new.period LIMIT ?""",
            [since, until, limit],
        )

    # --- state ------------------------------------------------------------------------------

    def state(self, rule: str, series: str) -> AlertState | None:
        row = self._one("SELECT * FROM alert_state WHERE rule = ? AND series = ?", [rule, series])
        return _state(row) if row else None

    def states(self, *, rule: str | None = None, state: str | None = None) -> list[AlertState]:
        where, params = [], []
        if rule is not None:
            where.append("rule = ?")
            params.append(rule)
        if state is not None:
            where.append("state = ?")
            params.append(state)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
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

    def firing_count(self, rules: Iterable[str] | None = None) -> int:
        """Series firing now (for /metrics); `rules` limits it to the configured ones, so
        a rule removed from the config stops counting."""
        if rules is None:
            row = self._one("SELECT COUNT(*) AS n FROM alert_state WHERE state = 'firing'")
            return row["n"] if row else 0
        firing = self._rows("SELECT rule FROM alert_state WHERE state = 'firing'")
        wanted = set(rules)
        return sum(1 for row in firing if row["rule"] in wanted)

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
        payload: dict,
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

    def events(
        self, *, since: str | None = None, rule: str | None = None, limit: int = 50
    ) -> list[Event]:
        """Newest first."""
        where, params = [], []
        if since is not None:
            where.append("at >= ?")
            params.append(since)
        if rule is not None:
            where.append("rule = ?")
            params.append(rule)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
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

    def firing_spans(self, series: str) -> list[dict]:
        """The periods in which each rule was firing for one series, from its events in
        period order (a span still open has `until` None): what a chart shades."""
        rows = self._rows(
            """SELECT rule, kind, period FROM events WHERE series = ? AND period IS NOT NULL
                   AND kind IN ('firing', 'resolved') ORDER BY rule, period, id""",
            [series],
        )
        spans: list[dict] = []
        open_spans: dict[str, dict] = {}
        for row in rows:
            if row["kind"] == "firing" and row["rule"] not in open_spans:
                open_spans[row["rule"]] = {"rule": row["rule"], "since": row["period"],
                                           "until": None}  # fmt: skip
                spans.append(open_spans[row["rule"]])
            elif row["kind"] == "resolved" and row["rule"] in open_spans:
                open_spans.pop(row["rule"])["until"] = row["period"]
        return spans

    # --- silences ---------------------------------------------------------------------------

    def silence(self, rule: str, *, until: str, comment: str = "") -> int:
        cursor = self.db.execute(
            "INSERT INTO silences (rule, until, comment, created_at) VALUES (?, ?, ?, ?)",
            (rule, until, comment, clock.now()),
        )
        return cursor.lastrowid

    def silences(self, *, active_at: str | None = None) -> list[Silence]:
        """All silences, or those still in force at `active_at`."""
        if active_at is None:
            rows = self._rows("SELECT * FROM silences ORDER BY until DESC, id DESC")
        else:
            rows = self._rows(
                "SELECT * FROM silences WHERE until > ? ORDER BY until DESC", [active_at]
            )
        return [Silence(**row) for row in rows]

    def unsilence(self, silence_id: int) -> bool:
        cursor = self.db.execute("DELETE FROM silences WHERE id = ?", [silence_id])
        return cursor.rowcount == 1


def _state(row: dict) -> AlertState:
    return AlertState(**{**row, "detail": json.loads(row["detail"])})
