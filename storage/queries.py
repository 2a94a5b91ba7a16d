"""Read-only listings for people: source health, metric summaries, series with their
revisions, alert history, exports, and arbitrary SQL that can never write. The CLI, the
web pages and Datasette's canned queries ask the same questions, so the SQL lives here."""

import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from core.status import FAILURES, SUCCEEDED
from storage.errors import StorageError
from storage.listings import (
    ArchiveRead,
    EventLine,
    Exported,
    Fetched,
    FiringAlert,
    LastEvent,
    LatestChange,
    MetricSummary,
    RevisedValue,
    SourceHealth,
)
from storage.migrations import require
from storage.observations import METRIC_NAMES, series_where
from storage.repository import Params, Repository, Row, record, where
from storage.runs import sql_list
from storage.views import with_views

GLOB_MARKS = ("*", "?", "[")


PROGRESS_STEPS = 10_000  # SQLite instructions between two looks at the clock


def _too_long(seconds: float | None) -> str:
    return (
        f"the query ran longer than {seconds:g} s and was stopped; narrow it (a WHERE, a "
        "LIMIT, a recursive CTE that ends) or give it more time with --time-limit"
    )


def _rows(
    cursor: sqlite3.Cursor, columns: list[str], seconds: float | None
) -> Iterator[dict[str, Any]]:
    """The rows as dicts; a statement stopped at its time limit while rows were being read
    is a StorageError saying so. Once read, the connection has no time limit again."""
    try:
        for row in cursor:
            yield dict(zip(columns, row, strict=True))
    except sqlite3.OperationalError as error:
        if seconds is not None and "interrupted" in str(error).lower():
            raise StorageError(_too_long(seconds)) from None
        raise StorageError(f"SQL error: {error}") from None
    finally:
        if seconds is not None:
            cursor.connection.set_progress_handler(None, 0)


@dataclass(frozen=True)
class QueryResult:
    """Rows of an arbitrary query, streamed: `rows` yields dicts keyed by `columns` (the
    user's SQL names them, so they have no record of their own)."""

    columns: list[str]
    rows: Iterator[dict[str, Any]]


class Queries(Repository):
    # ----------------------------------------------------------------------- sources
    def source_health(self) -> list[SourceHealth]:
        """Every source known from the config or from its runs, with its last run, its
        last success and how often it failed."""
        rows = self._rows(
            f"""WITH names AS (SELECT name FROM sources UNION SELECT source FROM runs),
                    last AS (SELECT r.* FROM runs r JOIN (SELECT source, MAX(id) AS id
                             FROM runs GROUP BY source) newest ON newest.id = r.id),
                    totals AS (SELECT source, COUNT(*) AS runs,
                                      SUM(status IN ({sql_list(FAILURES)})) AS failures,
                                      MAX(CASE WHEN status IN ({sql_list(SUCCEEDED)})
                                          THEN finished_at END) AS last_ok
                               FROM runs GROUP BY source)
               SELECT names.name AS source, COALESCE(s.kind, '') AS kind,
                      COALESCE(s.title, '') AS title, COALESCE(s.url, '') AS url,
                      last.id AS last_run_id, last.status, last.started_at AS last_run,
                      last.finished_at, last.reason, totals.last_ok,
                      COALESCE(totals.runs, 0) AS runs, COALESCE(totals.failures, 0) AS failures,
                      last.values_new, last.values_revised, last.values_unchanged, last.news_new
               FROM names LEFT JOIN sources s ON s.name = names.name
                    LEFT JOIN last ON last.source = names.name
                    LEFT JOIN totals ON totals.source = names.name
               ORDER BY names.name"""
        )
        return [record(SourceHealth, row) for row in rows]

    def snapshots_of(
        self, source: str, *, limit: int = 100, archived: bool = False
    ) -> list[Fetched]:
        """The newest live fetches of a source, with the run that made them; or, with
        `archived`, its captures read from web archives (newest capture first)."""
        rows = self._rows(
            f"""SELECT id, run_id, url, fetched_at, http_status, content_type, size, sha256,
                       archive, archive_timestamp
               FROM snapshots WHERE source = ? AND archive IS {"NOT " * archived}NULL
               ORDER BY fetched_at DESC, id DESC LIMIT ?""",
            [source, limit],
        )
        return [record(Fetched, row) for row in rows]

    def archives_read(self, source: str | None = None) -> list[ArchiveRead]:
        """Per source and web archive: how many captures were read, and the first and
        last capture time (`crossings backfill`), apart from live fetches."""
        clause, params = where(("source = ?", source), ("archive IS NOT NULL", ()))
        rows = self._rows(
            f"""SELECT source, archive, COUNT(*) AS captures, MIN(fetched_at) AS first_capture,
                       MAX(fetched_at) AS last_capture
                FROM snapshots {clause} GROUP BY source, archive ORDER BY source, archive""",
            params,
        )
        return [record(ArchiveRead, row) for row in rows]

    # ----------------------------------------------------------------------- metrics
    def metric_summaries(self, pattern: str | None = None) -> list[MetricSummary]:
        """One row per metric: its latest period and value, the change from the period
        before, when the value was last confirmed (`as_of`) and how often it was revised.
        `pattern` is a glob (`trac.*`) or, without wildcards, a substring. Each metric
        costs a few index lookups, so listing stays quick however long the histories;
        a file older than those indexes is refused with how to update it (it would take
        a minute on ten million values)."""
        require(self.db, 3, "listing metrics")
        condition, params = "", []
        if pattern:
            if any(mark in pattern for mark in GLOB_MARKS):
                condition, params = "AND names.metric GLOB ?", [pattern]
            else:
                condition, params = "AND instr(names.metric, ?) > 0", [pattern]
        newest = """SELECT id FROM observations WHERE metric = names.metric
                    AND superseded_at IS NULL ORDER BY period DESC LIMIT 1"""
        rows = self._rows(
            f"""WITH RECURSIVE {METRIC_NAMES}
                SELECT names.metric, COALESCE(m.label, '') AS label, latest.period,
                       latest.value, COALESCE(NULLIF(latest.unit, ''), m.unit, '') AS unit,
                       previous.period AS previous_period, previous.value AS previous_value,
                       latest.value - previous.value AS change,
                       CASE WHEN previous.value != 0 THEN ROUND(100.0 * (latest.value
                            - previous.value) / ABS(previous.value), 1) END AS change_pct,
                       latest.last_seen AS as_of,
                       (SELECT COUNT(*) FROM observations WHERE metric = names.metric
                        AND previous_id IS NOT NULL) AS revisions,
                       COALESCE(m.source, '') AS source, latest.snapshot_id
                FROM names
                     JOIN observations latest ON latest.id = ({newest})
                     LEFT JOIN observations previous ON previous.id = ({newest} OFFSET 1)
                     LEFT JOIN metrics m ON m.name = names.metric
                WHERE names.metric IS NOT NULL {condition} ORDER BY names.metric""",
            params,
        )
        return [record(MetricSummary, row) for row in rows]

    def metric_names(self) -> list[str]:
        """Every metric with stored values, in name order."""
        return [
            row["metric"]
            for row in self._rows(
                f"WITH RECURSIVE {METRIC_NAMES} SELECT metric FROM names WHERE metric IS NOT NULL"
            )
        ]

    def has_metric(self, metric: str) -> bool:
        """Whether `metric` has stored values: one index lookup, where `metric_names` walks
        every metric (seconds with 10,000 sources)."""
        sql = "SELECT 1 FROM observations WHERE metric = ? AND superseded_at IS NULL LIMIT 1"
        return self._one(sql, [metric]) is not None

    def series_with_revisions(
        self,
        metric: str,
        *,
        as_of: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[RevisedValue]:
        """The series by period (as known now, or at `as_of`), each value with how many
        times it was revised and the value it replaced, so "was it revised?" is one look."""
        clause, params = series_where(metric, as_of, since, until, "o.")
        known = "" if as_of is None else "AND h.first_seen <= o.first_seen"
        rows = self._rows(
            f"""SELECT o.period, o.value, o.unit, o.flags,
                       (SELECT COUNT(*) - 1 FROM observations h WHERE h.metric = o.metric
                        AND h.period = o.period {known}) AS revisions,
                       replaced.value AS replaced_value, o.first_seen, o.last_seen, o.snapshot_id
                FROM observations o LEFT JOIN observations replaced ON replaced.id = o.previous_id
                {clause} ORDER BY o.period""",
            params,
        )
        return [record(RevisedValue, row) for row in rows]

    def latest_changes(self, *, limit: int = 20) -> list[LatestChange]:
        """The most recently stored new or revised values, newest first."""
        rows = self._rows(
            """SELECT o.metric, o.period, o.value, replaced.value AS previous_value,
                      CASE WHEN o.previous_id IS NULL THEN 'new' ELSE 'revised' END AS change,
                      o.first_seen AS at, o.snapshot_id
               FROM observations o LEFT JOIN observations replaced ON replaced.id = o.previous_id
               ORDER BY o.first_seen DESC, o.id DESC LIMIT ?""",
            [limit],
        )
        return [record(LatestChange, row) for row in rows]

    # ------------------------------------------------------------------------ export
    def export_count(self, metrics: Sequence[str]) -> int:
        marks = ",".join("?" * len(metrics))
        row = self._one(
            f"""SELECT COUNT(*) AS n FROM observations
                WHERE superseded_at IS NULL AND metric IN ({marks})""",
            list(metrics),
        )
        return row["n"] if row else 0

    def export_rows(self, metrics: Sequence[str]) -> Iterator[Exported]:
        """Current values of the metrics, streamed row by row (an export of millions of
        rows never sits in memory)."""
        marks = ",".join("?" * len(metrics))
        rows = self.db.query(
            f"""SELECT metric, period, value, unit, flags, first_seen, last_seen, snapshot_id
                FROM observations WHERE superseded_at IS NULL AND metric IN ({marks})
                ORDER BY metric, period""",
            list(metrics),
        )
        yield from (record(Exported, row) for row in rows)

    # ------------------------------------------------------------------------ alerts
    def firing_alerts(self) -> list[FiringAlert]:
        rows = self._tolerant(
            f"{with_views('firing_alerts')} SELECT * FROM firing_alerts ORDER BY since DESC"
        )
        return [record(FiringAlert, row) for row in rows]

    def alert_events(self, *, limit: int = 200) -> list[EventLine]:
        """Alert history, newest first, with where each notice went and whether it was sent."""
        rows = self._tolerant(
            """SELECT e.id, e.rule, e.series, e.kind, e.at, e.period, e.summary, e.silenced,
                      (SELECT group_concat(channel || ': ' || status, ', ') FROM outbox
                       WHERE outbox.event_id = e.id) AS delivery
               FROM events e ORDER BY e.at DESC, e.id DESC LIMIT ?""",
            [limit],
        )
        return [record(EventLine, row) for row in rows]

    def last_alert_events(self) -> list[LastEvent]:
        """The newest event of each rule and series (SQLite takes the other columns from
        the row holding MAX), newest first: what the overview shows beside a rule."""
        rows = self._tolerant(
            """SELECT rule, series, kind, MAX(at) AS at, period, summary FROM events
               GROUP BY rule, series ORDER BY at DESC"""
        )
        return [record(LastEvent, row) for row in rows]

    def _tolerant(self, sql: str, params: list[Any] | None = None) -> list[Row]:
        """Alert tables come with schema version 2; an older file simply has no alerts."""
        try:
            return self._rows(sql, params or [])
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return []
            raise

    # -------------------------------------------------------------------- free SQL
    def run_sql(
        self, sql: str, params: Params = (), *, seconds: float | None = None
    ) -> QueryResult:
        """Run one statement of the user's SQL. On a read-only store a write is refused
        with a StorageError saying so; other SQL errors are StorageErrors too. With
        `seconds`, SQLite stops the statement once it has run that long, rows still to
        read included (a recursive CTE without end), and a StorageError says so."""
        conn = self.db.conn
        deadline = None if seconds is None else time.monotonic() + seconds
        if deadline is not None:
            conn.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_STEPS)
        try:
            cursor = conn.execute(sql, params)
        except sqlite3.OperationalError as error:
            text = str(error).lower()
            if "interrupted" in text and deadline is not None:
                raise StorageError(_too_long(seconds)) from None
            if "readonly" in text or "read-only" in text:
                raise StorageError(
                    f"refused: this query would change the database ({error}). Queries run "
                    "read-only; crossings changes its data only through its own commands"
                ) from None
            if "too many attached" in text:
                raise StorageError(
                    "refused: queries run read-only and cannot ATTACH or VACUUM INTO other "
                    "files; copy the database file itself instead"
                ) from None
            raise StorageError(f"SQL error: {error}") from None
        except (sqlite3.ProgrammingError, sqlite3.DatabaseError) as error:
            raise StorageError(f"SQL error: {error}") from None
        columns = [column[0] for column in cursor.description or ()]
        return QueryResult(columns, _rows(cursor, columns, seconds))
