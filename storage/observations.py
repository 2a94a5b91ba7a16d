"""Observations: the value of a metric for a period, as seen in a snapshot, with every
vintage kept. A changed value for the same metric and period supersedes the current row
and inserts a new one that points back at it, so "what did the source say on 1 March?"
(`series(as_of=...)`) and "what was revised this week?" (`revisions(since=...)`) are
plain queries."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Literal

from core import clock
from storage.repository import Repository, Term, record, where
from storage.views import with_views

IN_CHUNK = 500  # names per IN (...) list, well under SQLite's variable limit
# The distinct metrics, one index seek each on `observations_current` (a loose index scan:
# DISTINCT would read every current row of every metric).
METRIC_NAMES = """names(metric) AS (
    SELECT MIN(metric) FROM observations WHERE superseded_at IS NULL
    UNION ALL
    SELECT (SELECT MIN(metric) FROM observations
            WHERE superseded_at IS NULL AND metric > names.metric)
    FROM names WHERE names.metric IS NOT NULL)"""


@dataclass(frozen=True)
class Observation:
    """One value a parser found. `flags` are kept marks such as `partial`, `estimated`
    or `footnote:*`."""

    metric: str
    period: str
    value: float
    unit: str = ""
    flags: tuple[str, ...] = ()

    def __init__(
        self, metric: str, period: str, value: float, unit: str = "", flags: tuple[str, ...] = ()
    ) -> None:
        # The frozen dataclass's own __init__, writing the instance's dict at once: it
        # calls object.__setattr__ per field, twice the cost, and a page makes 240 of these
        # (tests/test_storage.py holds this signature to the fields).
        fields = self.__dict__
        fields["metric"], fields["period"], fields["value"] = metric, period, value
        fields["unit"], fields["flags"] = unit, flags


@dataclass(frozen=True)
class Change:
    """A value that is new, or that revised an earlier one (`previous`)."""

    kind: Literal["new", "revised"]
    metric: str
    period: str
    value: float
    previous: float | None = None
    flags: tuple[str, ...] = ()

    def __init__(
        self,
        kind: Literal["new", "revised"],
        metric: str,
        period: str,
        value: float,
        previous: float | None = None,
        flags: tuple[str, ...] = (),
    ) -> None:
        # As Observation's: one Change per value stored, 240 a page.
        fields = self.__dict__
        fields["kind"], fields["metric"], fields["period"] = kind, metric, period
        fields["value"], fields["previous"], fields["flags"] = value, previous, flags


@dataclass(frozen=True)
class Vintage:
    """A value stored for a period, with the value it replaced (None: a new period)."""

    id: int
    period: str
    value: float
    snapshot_id: int | None
    first_seen: str
    old_value: float | None
    old_first_seen: str | None


@dataclass(frozen=True)
class Arrived:
    """A value first stored in a span of time, with the value it replaced (None: new)."""

    metric: str
    period: str
    value: float
    first_seen: str
    snapshot_id: int | None
    old_value: float | None


@dataclass
class UpsertResult:
    new: list[Change] = field(default_factory=list)
    revised: list[Change] = field(default_factory=list)
    unchanged: int = 0


@dataclass(frozen=True)
class Point:
    """One vintage of one period of a series."""

    id: int
    metric: str
    period: str
    value: float
    unit: str
    flags: tuple[str, ...]
    snapshot_id: int | None
    first_seen: str
    last_seen: str
    superseded_at: str | None


@dataclass(frozen=True)
class Values:
    """The current values of one series as parallel columns, oldest first: how rules walk
    twenty years of a series (a `Point` per row cost more than reading the row). `flags`
    as stored (`decode_flags`)."""

    metric: str
    periods: list[str]
    values: list[float]
    flags: list[str]
    snapshot_ids: list[int | None]
    ids: list[int] = field(default_factory=list)  # with provenance only
    first_seen: list[str] = field(default_factory=list)  # with provenance only

    def __len__(self) -> int:
        return len(self.periods)


@dataclass(frozen=True)
class Revision:
    metric: str
    period: str
    old_value: float
    new_value: float
    old_first_seen: str
    revised_at: str
    old_snapshot_id: int | None
    new_snapshot_id: int | None


def encode_flags(flags: Iterable[str]) -> str:
    if not flags:  # most values carry no flags
        return ""
    return ",".join(sorted(set(flags)))


def decode_flags(text: str) -> tuple[str, ...]:
    if not text:  # most values carry no flags: skip the split
        return ()
    return tuple(flag for flag in text.split(",") if flag)


def known_at(as_of: str | None, table: str = "") -> Term:
    """The filter for values as known now (as_of None) or as they were known at `as_of`."""
    if as_of is None:
        return (f"{table}superseded_at IS NULL", ())
    return (
        f"{table}first_seen <= ? AND ({table}superseded_at IS NULL OR {table}superseded_at > ?)",
        (as_of, as_of),
    )


def series_where(
    metric: str, as_of: str | None, since: str | None, until: str | None, table: str = ""
) -> tuple[str, list[Any]]:
    """The WHERE of one series (as known now or at `as_of`), its periods bounded by
    `since`/`until` (inclusive, canonical period text): what every series reader uses."""
    return where(
        (f"{table}metric = ?", metric),
        known_at(as_of, table),
        (f"{table}period >= ?", since),
        (f"{table}period <= ? || '~'", until),  # '2025' covers '2025-05' and '2025-05-31'
    )


class Observations(Repository):
    def upsert(
        self,
        observations: Iterable[Observation],
        *,
        snapshot_id: int | None,
        at: str | None = None,
    ) -> UpsertResult:
        """Store what a parser found: new values are inserted, changed ones become a new
        vintage, equal ones only refresh `last_seen`. Runs in one transaction."""
        at = at or clock.now()
        latest: dict[tuple[str, str], Observation] = {}
        for observation in observations:
            latest[(observation.metric, observation.period)] = observation
        current = self._current(latest)
        result = UpsertResult()
        inserts, superseded, seen = [], [], []
        for key, obs in latest.items():
            flags = encode_flags(obs.flags)
            row = current.get(key)
            if row is not None and row[1] == obs.value and row[2] == flags:
                seen.append((at, row[0]))
                result.unchanged += 1
                continue
            previous_id = None
            if row is None:
                result.new.append(Change("new", obs.metric, obs.period, obs.value, None, obs.flags))
            else:
                previous_id = row[0]
                superseded.append((at, row[0]))
                result.revised.append(
                    Change("revised", obs.metric, obs.period, obs.value, row[1], obs.flags)
                )
            inserts.append(
                (obs.metric, obs.period, obs.value, obs.unit, flags, snapshot_id, at, at,
                 previous_id)
            )  # fmt: skip
        conn = self.db.conn
        with self.transaction():
            conn.executemany("UPDATE observations SET last_seen = ? WHERE id = ?", seen)
            conn.executemany("UPDATE observations SET superseded_at = ? WHERE id = ?", superseded)
            conn.executemany(
                """INSERT INTO observations (metric, period, value, unit, flags, snapshot_id,
                       first_seen, last_seen, previous_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                inserts,
            )
        return result

    def _current(
        self, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[int, float, str]]:
        """(id, value, flags) of the current rows for exactly these (metric, period) keys:
        one query per chunk of keys (a page's 240 values were 40 queries, one per metric),
        each key an index lookup, so a run costs what it brings, not the history's length."""
        wanted = list(keys)
        found = {}
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            pairs = ",".join(["(?, ?)"] * len(chunk))
            for row_id, metric, period, value, flags in self.db.conn.execute(
                f"""WITH wanted(metric, period) AS (VALUES {pairs})
                    SELECT o.id, o.metric, o.period, o.value, o.flags
                    FROM wanted CROSS JOIN observations o
                    WHERE o.superseded_at IS NULL AND o.metric = wanted.metric
                          AND o.period = wanted.period""",
                [part for key in chunk for part in key],
            ):
                found[(metric, period)] = (row_id, value, flags)
        return found

    def series(
        self,
        metric: str,
        *,
        as_of: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[Point]:
        """The series by period, as known now or as it was known at `as_of`;
        `since`/`until` bound the periods (inclusive, canonical period text)."""
        clause, params = series_where(metric, as_of, since, until)
        return self._points(f"{clause} ORDER BY period", params)

    def history(self, metric: str, period: str) -> list[Point]:
        """Every vintage of one period, oldest first."""
        return self._points(
            "WHERE metric = ? AND period = ? ORDER BY first_seen, id", [metric, period]
        )

    def revisions(self, *, since: str, metric: str | None = None) -> list[Revision]:
        """Values revised at or after `since`, newest first."""
        clause, params = where(("revised_at >= ?", since), ("metric = ?", metric))
        rows = self._rows(
            f"""{with_views("revisions")}
                SELECT metric, period, old_value, new_value, old_first_seen, revised_at,
                       old_snapshot_id, new_snapshot_id
                FROM revisions {clause} ORDER BY revised_at DESC, id DESC""",
            params,
        )
        return [Revision(**row) for row in rows]

    def for_snapshot(self, snapshot_id: int) -> list[Point]:
        """The vintages first seen in one snapshot (what a fetch contributed)."""
        return self._points("WHERE snapshot_id = ? ORDER BY metric, period", [snapshot_id])

    # --- what rules read: what changed since a cursor, and the few periods a window needs.
    # These touch only what a crawl added, so evaluation costs that, not the history's size.

    def changed_metrics(self, after_id: int) -> set[str]:
        """Metrics with a value stored after observation `after_id`: a rowid range, cheap
        however long the history; from the start (0), every stored metric, one index seek
        each (grouping all 7.3 M rows by metric cost seconds: bench/README.md)."""
        if after_id == 0:
            every = (
                f"WITH RECURSIVE {METRIC_NAMES} SELECT metric FROM names WHERE metric IS NOT NULL"
            )
            return {name for (name,) in self.db.conn.execute(every)}
        return {
            name for (name,) in self.db.conn.execute(grouped_since("metric", after_id), [after_id])
        }

    def changes(self, metric: str, after_id: int) -> list[Vintage]:
        """Vintages of a metric stored after `after_id`, each with the value it replaced
        (`old_value` is None for a new period)."""
        rows = self._rows(
            """SELECT new.id, new.period, new.value, new.snapshot_id, new.first_seen,
                      old.value AS old_value, old.first_seen AS old_first_seen
               FROM observations new LEFT JOIN observations old ON old.id = new.previous_id
               WHERE new.metric = ? AND new.id > ? ORDER BY new.id""",
            [metric, after_id],
        )
        return [record(Vintage, row) for row in rows]

    # --- the periods a rule needs ------------------------------------------------------------

    def values(self, metric: str, *, since: str | None = None, provenance: bool = False) -> Values:
        """The current values of a metric (periods from `since` on), oldest first, as
        columns: one read of the covering index `observations_current_rows`, no object
        per row (what a rule's first look over twenty years costs: bench/README.md).
        With `provenance`, also each value's id and when it was first seen."""
        columns = "period, value, flags, snapshot_id" + ", id, first_seen" * provenance
        clause, params = where(
            ("metric = ?", metric), ("superseded_at IS NULL", ()), ("period >= ?", since)
        )
        rows = self.db.conn.execute(
            f"SELECT {columns} FROM observations {clause} ORDER BY period", params
        ).fetchall()
        return _values(metric, rows)

    def tail(self, metric: str, *, after: str | None, before: int) -> Values:
        """Current values for the periods after `after` (all if None: then only the last
        `before` + 1), preceded by the `before` periods up to `after`. Oldest first."""
        current = """SELECT period, value, flags, snapshot_id FROM observations
                     WHERE metric = ? AND superseded_at IS NULL"""
        conn = self.db.conn
        if after is None:
            newest = conn.execute(
                f"{current} ORDER BY period DESC LIMIT ?", [metric, before + 1]
            ).fetchall()
            return _values(metric, newest[::-1])
        earlier = conn.execute(
            f"{current} AND period <= ? ORDER BY period DESC LIMIT ?", [metric, after, before]
        ).fetchall()
        later = conn.execute(f"{current} AND period > ? ORDER BY period", [metric, after])
        return _values(metric, [*reversed(earlier), *later])

    def points_at(self, metric: str, periods: Iterable[str]) -> dict[str, Point]:
        """Current values of named periods (a year earlier, say)."""
        wanted, found = sorted(set(periods)), {}
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for point in self._points(
                f"WHERE metric = ? AND superseded_at IS NULL AND period IN ({marks})",
                [metric, *chunk],
            ):
                found[point.period] = point
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

    def arrivals(self, *, since: str, until: str, limit: int = 1000) -> list[Arrived]:
        """Values first stored in [since, until): new periods (old_value None) and
        revisions (with the value they replaced), by metric and period."""
        rows = self._rows(
            """SELECT new.metric, new.period, new.value, new.first_seen, new.snapshot_id,
                      old.value AS old_value
               FROM observations new LEFT JOIN observations old ON old.id = new.previous_id
               WHERE new.first_seen >= ? AND new.first_seen < ?
               ORDER BY new.metric, new.period LIMIT ?""",
            [since, until, limit],
        )
        return [record(Arrived, row) for row in rows]

    def _points(self, condition: str, params: list[Any]) -> list[Point]:
        """Points built straight from tuple rows: a 20-year daily series is 7,305 of them,
        and going through a dict per row cost more than the query itself."""
        cursor = self.db.conn.execute(
            f"""SELECT id, metric, period, value, unit, flags, snapshot_id, first_seen,
                       last_seen, superseded_at FROM observations {condition}""",
            params,
        )
        return [
            Point(
                row_id, metric, period, value, unit, decode_flags(flags), snapshot, seen, last, gone
            )
            for row_id, metric, period, value, unit, flags, snapshot, seen, last, gone in cursor
        ]


_COLUMNS = tuple(itemgetter(i) for i in range(6))


def _values(metric: str, rows: list[tuple[Any, ...]]) -> Values:
    """Rows turned into columns, one `itemgetter` pass per column: 4x less CPU than
    `zip(*rows)`, which builds one 7,305-argument call and then copies each tuple."""
    if not rows:
        return Values(metric, [], [], [], [])
    return Values(metric, *(list(map(column, rows)) for column in _COLUMNS[: len(rows[0])]))


def grouped_since(columns: str, after_id: int) -> str:
    """Per metric, `columns` of the rows stored after `after_id`. A rowid range (NOT
    INDEXED: left alone, SQLite walks a whole (metric, ...) index to group); from the
    start (a first look at everything), that index walk is the cheaper way: it needs no
    sort (3.5x less CPU over 730,500 rows)."""
    hint = "" if after_id == 0 else " NOT INDEXED"
    return f"SELECT {columns} FROM observations{hint} WHERE id > ? GROUP BY metric"
