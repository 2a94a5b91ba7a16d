"""Read-only figures about the whole database, for the daemon's /healthz and /metrics and
its run summaries: counts by status, crawl durations, the newest run of every source."""

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from core.status import ARCHIVE_TRIGGER, REACHED_SITE, SUCCEEDED, RunStatus
from storage.repository import Repository, record
from storage.runs import sql_list

DURATION = "(julianday(finished_at) - julianday(started_at)) * 86400.0"


@dataclass(frozen=True)
class Durations:
    """Crawl durations of finished runs as a cumulative histogram (Prometheus style)."""

    buckets: list[tuple[float, int]]  # (upper bound in seconds, runs at most that long)
    count: int
    total_seconds: float


@dataclass(frozen=True)
class OpenRun:
    """A run still marked running, and the process holding it (None: none recorded)."""

    id: int
    source: str
    pid: int | None


class Stats(Repository):
    def runs_by_status(self) -> dict[str, int]:
        rows = self._rows("SELECT status, COUNT(*) AS n FROM runs GROUP BY status")
        return {row["status"]: row["n"] for row in rows}

    def durations(self, bounds: tuple[float, ...]) -> Durations:
        columns = ", ".join(
            f"SUM(CASE WHEN {DURATION} <= {float(bound)!r} THEN 1 ELSE 0 END) AS b{index}"
            for index, bound in enumerate(bounds)
        )
        row = self._aggregate(
            f"""SELECT COUNT(*) AS n, COALESCE(SUM({DURATION}), 0.0) AS total, {columns}
                FROM runs
                WHERE finished_at IS NOT NULL AND status != '{RunStatus.INTERRUPTED}'"""
        )
        return Durations(
            buckets=[(bound, row[f"b{index}"] or 0) for index, bound in enumerate(bounds)],
            count=row["n"],
            total_seconds=row["total"],
        )

    def observation_counts(self) -> dict[str, int]:
        """`current`: one per metric and period; `vintages`: every version ever stored."""
        row = self._aggregate(
            """SELECT COUNT(*) AS vintages,
                      COALESCE(SUM(superseded_at IS NULL), 0) AS current FROM observations"""
        )
        return dict(row)

    def alerts_firing(self) -> int:
        return self._aggregate("SELECT COUNT(*) AS n FROM alert_state WHERE state = 'firing'")["n"]

    def outbox_due(self, now: str) -> int:
        """Messages waiting to be sent whose time has come (new ones and retries)."""
        return self._aggregate(
            """SELECT COUNT(*) AS n FROM outbox
               WHERE status = 'pending' AND next_attempt_at <= ?""",
            [now],
        )["n"]

    def last_success(self) -> dict[str, str]:
        """When each source last finished a run that fetched what it should."""
        rows = self._rows(
            f"""SELECT source, MAX(finished_at) AS at FROM runs
               WHERE status IN ({sql_list(SUCCEEDED)}) GROUP BY source"""
        )
        return {row["source"]: row["at"] for row in rows}

    def last_started(self) -> dict[str, str]:
        """When each source last started a crawl that was not cut off (drives catch-up)."""
        rows = self._rows(
            f"""SELECT source, MAX(started_at) AS at FROM runs
               WHERE status != '{RunStatus.INTERRUPTED}' AND trigger != '{ARCHIVE_TRIGGER}'
               GROUP BY source"""
        )
        return {row["source"]: row["at"] for row in rows}

    def failing(self) -> dict[str, tuple[int, str]]:
        """Sources whose last finished run failed: how many runs failed in a row since the
        last one that reached the site (ok, unchanged or broken), and when the last ended.
        Drives the retries after a failure."""
        rows = self._rows(
            f"""SELECT r.source, COUNT(*) AS failures, MAX(r.finished_at) AS at FROM runs r
               WHERE r.status = '{RunStatus.FAILED}' AND r.id > COALESCE((SELECT MAX(id)
                     FROM runs s WHERE s.source = r.source
                     AND s.status IN ({sql_list(REACHED_SITE)})), 0)
               GROUP BY r.source"""
        )
        return {row["source"]: (row["failures"], row["at"]) for row in rows}

    def running(self) -> list[OpenRun]:
        """Runs still marked running: at start-up, left by the dead."""
        rows = self._rows(f"SELECT id, source, pid FROM runs WHERE status = '{RunStatus.RUNNING}'")
        return [record(OpenRun, row) for row in rows]


def probe_writable(path: Path, *, timeout: float = 3.0) -> str | None:
    """None if a writer could take the database's write lock now, else what is wrong.
    Takes and releases the lock without changing anything."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=timeout)
    except sqlite3.Error as error:
        return f"cannot open {path}: {error}"
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.Error as error:
        return f"cannot write to {path}: {error}"
    finally:
        conn.close()
    return None
