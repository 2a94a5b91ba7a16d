"""Vintages from the past: values read from a web archive's capture, stored as first seen
at the capture's time, slotted among the vintages already stored (earlier captures, and
live crawls that came later). A value that differs from the one known just before it is
a revision; one equal to it only stretches that vintage. So a backfill makes the same
history a crawl at each capture's time would have made, whatever order captures arrive in."""

from collections.abc import Iterable

from storage.observations import Change, Observation, UpsertResult, encode_flags
from storage.repository import Repository

# (id, value, flags, first_seen, last_seen, superseded_at, snapshot_id) of one vintage
Row = tuple[int, float, str, str, str, str | None, int | None]


class History(Repository):
    def record_past(
        self, observations: Iterable[Observation], *, snapshot_id: int, at: str
    ) -> UpsertResult:
        """Store what a capture from `at` said, in one transaction. Per metric and period:
        the vintage known at `at` (`before`) and the first one seen after it (`after`):
        - equal to `before`: it was still so at `at` (its last_seen stretches);
        - else, if `before` was seen again after `at`, it is split around a new vintage;
        - equal to `after`: that value was known already at `at` (its first_seen moves
          back, and `before`, if any, is superseded then);
        - else a new vintage from `at` until `after` came, in the chain between them."""
        latest = {(obs.metric, obs.period): obs for obs in observations}
        result = UpsertResult()
        with self.transaction():
            for (metric, period), obs in latest.items():
                flags = encode_flags(obs.flags)
                before, after = self._around(metric, period, at)
                if before is not None and (before[1], before[2]) == (obs.value, flags):
                    self.db.execute(
                        "UPDATE observations SET last_seen = MAX(last_seen, ?) WHERE id = ?",
                        [at, before[0]],
                    )
                    result.unchanged += 1
                    continue
                if before is None:
                    result.new.append(Change("new", metric, period, obs.value, None, obs.flags))
                else:
                    result.revised.append(
                        Change("revised", metric, period, obs.value, before[1], obs.flags)
                    )
                    self.db.execute(
                        "UPDATE observations SET superseded_at = ? WHERE id = ?", [at, before[0]]
                    )
                    if before[4] > at:  # seen again after `at`: it resumes then
                        after = self._resume(before, at)
                if after is not None and (after[1], after[2]) == (obs.value, flags):
                    self.db.execute(
                        "UPDATE observations SET first_seen = ? WHERE id = ?", [at, after[0]]
                    )
                    continue
                new_id = self._insert(
                    """INSERT INTO observations (metric, period, value, unit, flags, snapshot_id,
                           first_seen, last_seen, superseded_at, previous_id)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (metric, period, obs.value, obs.unit, flags, snapshot_id, at, at,
                     after[3] if after else None, before[0] if before else None),
                )  # fmt: skip
                if after is not None:
                    self.db.execute(
                        "UPDATE observations SET previous_id = ? WHERE id = ?", [new_id, after[0]]
                    )
        return result

    def _resume(self, before: Row, at: str) -> Row:
        """Split a vintage seen both before and after `at` (already superseded at `at`,
        `before` says how it was): a copy of it resumes at its
        first sighting after `at` - when its own snapshot was fetched (a live crawl whose
        value was found known earlier), else when it was last seen - and takes its place
        in the chain. Returns the copy, the new vintage's `after`."""
        row_id, value, flags, _, last_seen, superseded_at, snapshot_id = before
        fetched = self.db.execute(
            "SELECT fetched_at FROM snapshots WHERE id = ?", [snapshot_id]
        ).fetchone()
        resumes = fetched[0] if fetched and fetched[0] > at else last_seen
        copy_id = self._insert(
            """INSERT INTO observations (metric, period, value, unit, flags, snapshot_id,
                   first_seen, last_seen, superseded_at, previous_id)
               SELECT metric, period, value, unit, flags, snapshot_id, ?, last_seen, ?, NULL
               FROM observations WHERE id = ?""",
            (resumes, superseded_at, row_id),
        )
        self.db.execute(
            "UPDATE observations SET previous_id = ? WHERE previous_id = ? AND id != ?",
            [copy_id, row_id, copy_id],
        )
        self.db.execute("UPDATE observations SET last_seen = first_seen WHERE id = ?", [row_id])
        return (copy_id, value, flags, resumes, last_seen, superseded_at, snapshot_id)

    def _around(self, metric: str, period: str, at: str) -> tuple[Row | None, Row | None]:
        """The vintage known at `at`, and the first one seen after it."""
        rows: list[Row] = self.db.conn.execute(
            """SELECT id, value, flags, first_seen, last_seen, superseded_at, snapshot_id
               FROM observations WHERE metric = ? AND period = ? ORDER BY first_seen, id""",
            [metric, period],
        ).fetchall()
        before = next((row for row in reversed(rows) if row[3] <= at), None)
        after = next((row for row in rows if row[3] > at), None)
        return before, after
