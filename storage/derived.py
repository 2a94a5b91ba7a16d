"""Derived metrics as stored: their values are observations like any other (charted,
queried and alerted on alike), with vintages — a recomputed value that differs becomes a
revision — and, for each vintage, the input observations it was computed from."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

from core import clock
from storage.observations import Point, decode_flags, encode_flags, grouped_since
from storage.repository import Repository


class Computed(Protocol):
    """A computed value to store, as the expression gives it (`series.expression.Value`:
    written as it comes, not copied into another tuple first, 730,000 in a first
    derivation)."""

    @property
    def value(self) -> float: ...
    @property
    def flags(self) -> Collection[str]: ...
    @property
    def inputs(self) -> tuple[int, ...]: ...


@dataclass(frozen=True)
class DerivedCursor:
    metric: str
    fingerprint: str
    observation_id: int


class Derived(Repository):
    def cursor(self, metric: str) -> DerivedCursor | None:
        row = self._one("SELECT * FROM derived_cursors WHERE metric = ?", [metric])
        return DerivedCursor(**row) if row else None

    def save_cursor(self, cursor: DerivedCursor) -> None:
        self.db.execute(
            """INSERT INTO derived_cursors (metric, fingerprint, observation_id) VALUES (?, ?, ?)
               ON CONFLICT(metric) DO UPDATE SET fingerprint = excluded.fingerprint,
                   observation_id = excluded.observation_id""",
            [cursor.metric, cursor.fingerprint, cursor.observation_id],
        )

    def newest_id(self) -> int:
        row = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM observations").fetchone()
        return row[0]

    def earliest_changes(self, after_id: int) -> dict[str, str]:
        """Per metric with values stored after observation `after_id`, the earliest
        period among them: where a recomputation must start."""
        return dict(self.db.execute(grouped_since("metric, MIN(period)", after_id), [after_id]))

    def write(
        self, metric: str, values: Mapping[str, Computed], *, unit: str, since: str | None
    ) -> tuple[int, int]:
        """Store computed values by period from `since` on (all if None; earlier ones are
        not looked at): new periods are inserted, changed ones become a new vintage (a
        revision), equal ones are left alone. Returns (new, revised)."""
        at = clock.now()
        where, params = "metric = ? AND superseded_at IS NULL", [metric]
        if since is not None:
            where += " AND period >= ?"
            params.append(since)
        current = {
            period: (row_id, value, flags)
            for row_id, period, value, flags in self.db.execute(
                f"SELECT id, period, value, flags FROM observations WHERE {where}", params
            )
        }
        conn = self.db.conn
        with self.transaction():  # the write lock: the ids below are ours to give
            next_id = self.newest_id() + 1
            inserts, superseded, inputs = [], [], []
            for period, item in values.items():
                if since is not None and period < since:
                    continue
                flags = encode_flags(item.flags)
                row = current.get(period)
                if row is not None and row[1] == item.value and row[2] == flags:
                    continue
                if row is not None:
                    superseded.append((at, row[0]))
                inserts.append((next_id, metric, period, item.value, unit, flags, at, at,
                                row[0] if row else None))  # fmt: skip
                if item.inputs:
                    inputs.append((next_id, _id_list(item.inputs)))
                next_id += 1
            conn.executemany("UPDATE observations SET superseded_at = ? WHERE id = ?", superseded)
            conn.executemany(
                """INSERT INTO observations (id, metric, period, value, unit, flags,
                       snapshot_id, first_seen, last_seen, previous_id)
                   VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)""",
                inserts,
            )
            conn.executemany(
                "INSERT INTO derived_input_lists (observation_id, inputs) VALUES (?, ?)", inputs
            )
        return len(inserts) - len(superseded), len(superseded)

    def inputs(self, observation_id: int) -> list[Point]:
        """The input observations a derived value was computed from (its provenance);
        `derived_inputs` is a view of `derived_input_lists`, one pair per input."""
        rows = self.db.execute(
            """SELECT o.id, o.metric, o.period, o.value, o.unit, o.flags, o.snapshot_id,
                      o.first_seen, o.last_seen, o.superseded_at
               FROM derived_inputs d JOIN observations o ON o.id = d.input_id
               WHERE d.observation_id = ? ORDER BY o.metric, o.period""",
            [observation_id],
        )
        return [Point(r[0], r[1], r[2], r[3], r[4], decode_flags(r[5]), *r[6:]) for r in rows]


def _id_list(ids: tuple[int, ...]) -> str:
    """Input ids as stored: a JSON array, ascending, each once (a sum of a series with
    itself names it twice; the pairs it stood for were a set)."""
    return str(sorted(set(ids)))  # a list of ints reads as JSON ('[3, 7]'), 1.4x faster
