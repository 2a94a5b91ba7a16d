"""Runs: one crawl of one source, from start to its outcome. A failure is a row with its
reason, never an exception that escapes the scheduler."""

from dataclasses import dataclass
from typing import Literal

from storage import clock
from storage.repository import Repository

RunStatus = Literal["running", "ok", "unchanged", "failed", "broken", "interrupted"]
FINAL_STATUSES = ("ok", "unchanged", "failed", "broken", "interrupted")


@dataclass(frozen=True)
class RunCounts:
    requests: int = 0
    bytes: int = 0
    values_new: int = 0
    values_revised: int = 0
    values_unchanged: int = 0
    news_new: int = 0


class Runs(Repository):
    def start(self, source: str, *, trigger: str = "manual", pid: int | None = None) -> int:
        """Open a run row (status running) and return its id. Like every write of a run,
        it waits out a write lock held by another process (storage.database)."""
        with self.transaction():
            cursor = self.db.execute(
                "INSERT INTO runs (source, trigger, started_at, pid) VALUES (?, ?, ?, ?)",
                (source, trigger, clock.now(), pid),
            )
        return cursor.lastrowid

    def finish(
        self,
        run_id: int,
        status: RunStatus,
        *,
        reason: str | None = None,
        counts: RunCounts = RunCounts(),
    ) -> None:
        """Close a run with its outcome; `reason` says in plain words what went wrong."""
        if status not in FINAL_STATUSES:
            raise ValueError(f"a run ends as one of {FINAL_STATUSES}, not {status!r}")
        with self.transaction():
            self.db.execute(
                """UPDATE runs SET finished_at = ?, status = ?, reason = ?, requests = ?, bytes = ?,
                       values_new = ?, values_revised = ?, values_unchanged = ?, news_new = ?
                   WHERE id = ?""",
                (
                    clock.now(),
                    status,
                    reason,
                    counts.requests,
                    counts.bytes,
                    counts.values_new,
                    counts.values_revised,
                    counts.values_unchanged,
                    counts.news_new,
                    run_id,
                ),
            )

    def get(self, run_id: int) -> dict | None:
        return self._one("SELECT * FROM runs WHERE id = ?", [run_id])

    def recent(self, source: str | None = None, limit: int = 50) -> list[dict]:
        """Newest first, for one source or all."""
        if source is None:
            return self._rows("SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit])
        return self._rows(
            "SELECT * FROM runs WHERE source = ? ORDER BY id DESC LIMIT ?", [source, limit]
        )

    def last_per_source(self) -> dict[str, dict]:
        """The newest finished-or-running run of every source that has one."""
        rows = self._rows(
            """SELECT r.* FROM runs r
               JOIN (SELECT source, MAX(id) AS id FROM runs GROUP BY source) last
                 ON last.id = r.id"""
        )
        return {row["source"]: row for row in rows}

    def last_started(self, source: str) -> str | None:
        """When the source last started a run that was not cut off (drives catch-up)."""
        row = self._one(
            """SELECT MAX(started_at) AS at FROM runs
               WHERE source = ? AND status != 'interrupted'""",
            [source],
        )
        return row["at"] if row else None

    def mark_interrupted(self, *, reason: str, pid: int | None = None) -> int:
        """Close runs left `running` by a process that died (all, or those of one pid)."""
        where, params = "status = 'running'", []
        if pid is not None:
            where, params = "status = 'running' AND pid = ?", [pid]
        with self.transaction():
            cursor = self.db.execute(
                f"UPDATE runs SET status = 'interrupted', finished_at = ?, reason = ? "
                f"WHERE {where}",
                [clock.now(), reason, *params],
            )
        return cursor.rowcount
