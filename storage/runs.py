"""Runs: one crawl of one source, from start to its outcome. A failure is a row with its
reason, never an exception that escapes the scheduler."""

from collections.abc import Iterable
from dataclasses import dataclass

from core import clock
from core.status import FINAL, RunCounts, RunStatus
from storage.repository import Repository, record, where


def sql_list(statuses: Iterable[RunStatus]) -> str:
    """`'ok', 'unchanged'`: statuses as SQL text for `status IN (...)`, in the order
    RunStatus declares them (so a view's text is the same in every process). Storage's SQL
    names run statuses only through RunStatus, here or as `'{RunStatus.X}'`: a view takes
    no parameters, and a new status is then classed in this file alone."""
    return ", ".join(f"'{status}'" for status in RunStatus if status in statuses)


@dataclass(frozen=True)
class Run:
    """A run row: when it started and ended (None: still running), its outcome, the plain
    words of its reason and notice, and its counters."""

    id: int
    source: str
    trigger: str
    started_at: str
    finished_at: str | None
    status: str
    reason: str | None
    requests: int
    bytes: int
    values_new: int
    values_revised: int
    values_unchanged: int
    news_new: int
    pid: int | None
    notice: str | None = None


class Runs(Repository):
    def start(self, source: str, *, trigger: str = "manual", pid: int | None = None) -> int:
        """Open a run row (status running) and return its id. Like every write of a run,
        it waits out a write lock held by another process (storage.database)."""
        return self._insert(
            "INSERT INTO runs (source, trigger, started_at, pid) VALUES (?, ?, ?, ?)",
            (source, trigger, clock.now(), pid),
        )

    def finish(
        self,
        run_id: int,
        status: RunStatus | str,
        *,
        reason: str | None = None,
        counts: RunCounts | None = None,
        notice: str | None = None,
    ) -> None:
        """Close a run with its outcome; `reason` says in plain words what went wrong (or,
        on a good run, what is worth knowing); `notice` is news for alerts (new rows)."""
        counts = counts or RunCounts()
        if status not in FINAL:
            raise ValueError(f"a run ends as one of {', '.join(FINAL)}, not {status!r}")
        self._write(
            """UPDATE runs SET finished_at = ?, status = ?, reason = ?, requests = ?, bytes = ?,
                   values_new = ?, values_revised = ?, values_unchanged = ?, news_new = ?,
                   notice = ?
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
                notice,
                run_id,
            ),
        )

    def get(self, run_id: int) -> Run | None:
        row = self._one("SELECT * FROM runs WHERE id = ?", [run_id])
        return record(Run, row) if row else None

    def recent(self, source: str | None = None, limit: int = 50) -> list[Run]:
        """Newest first, for one source or all."""
        clause, params = where(("source = ?", source))
        sql = f"SELECT * FROM runs {clause} ORDER BY id DESC LIMIT ?"
        return [record(Run, row) for row in self._rows(sql, [*params, limit])]

    def last_per_source(self) -> dict[str, Run]:
        """The newest finished-or-running run of every source that has one."""
        rows = self._rows(
            """SELECT r.* FROM runs r
               JOIN (SELECT source, MAX(id) AS id FROM runs GROUP BY source) last
                 ON last.id = r.id"""
        )
        return {row["source"]: record(Run, row) for row in rows}

    def finished_after(self, after: str) -> list[Run]:
        """Runs that ended after `after`, in the order they ended."""
        sql = "SELECT * FROM runs WHERE finished_at > ? ORDER BY finished_at, id"
        return [record(Run, row) for row in self._rows(sql, [after])]

    def mark_interrupted(
        self, *, reason: str, pid: int | None = None, status: RunStatus = RunStatus.INTERRUPTED
    ) -> int:
        """Close runs left `running` by a process that died (all, or those of one pid):
        `interrupted` when it was stopped on purpose, `failed` when it crashed."""
        clause, params = where((f"status = '{RunStatus.RUNNING}'", ()), ("pid = ?", pid))
        with self.transaction():
            cursor = self.db.execute(
                f"UPDATE runs SET status = ?, finished_at = ?, reason = ? {clause}",
                [status, clock.now(), reason, *params],
            )
        return cursor.rowcount
