"""Release history: when each source's metrics first showed a period newer than any they
had before, and the run before that (which had not seen it yet), so the publication is
known to lie in between. Read by release-aware polling and the late-release rule."""

from dataclasses import dataclass

from core.status import SUCCEEDED
from storage.repository import Repository
from storage.runs import sql_list


@dataclass(frozen=True)
class Arrival:
    """A new latest period of one of a source's metrics, first seen at `seen_at`;
    `not_before` is when the last good run before it started (None if there was none)."""

    metric: str
    period: str
    seen_at: str
    not_before: str | None


class Releases(Repository):
    def arrivals(self, source: str) -> list[Arrival]:
        """Oldest first. A metric's first crawl brings its whole back catalogue at once:
        that is where watching began, not a release, and is left out."""
        rows = self._rows(
            f"""WITH firsts AS (
                   SELECT o.metric, o.period, MIN(o.first_seen) AS seen_at
                   FROM observations o JOIN metrics m ON m.name = o.metric
                   WHERE m.source = :source GROUP BY o.metric, o.period),
               ranked AS (
                   SELECT metric, period, seen_at, MAX(period) OVER (
                       PARTITION BY metric ORDER BY seen_at
                       RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP
                   ) AS before FROM firsts)
               SELECT metric, period, seen_at,
                      (SELECT MAX(r.started_at) FROM runs r
                       WHERE r.source = :source AND r.status IN ({sql_list(SUCCEEDED)})
                         AND r.finished_at < ranked.seen_at) AS not_before
               FROM ranked WHERE before IS NOT NULL AND period > before
               ORDER BY seen_at, metric""",
            {"source": source},
        )
        return [Arrival(**row) for row in rows]

    def watching_since(self, source: str) -> str | None:
        """When the source's first value was stored."""
        row = self._one(
            """SELECT MIN(o.first_seen) AS at FROM observations o
               JOIN metrics m ON m.name = o.metric WHERE m.source = ?""",
            [source],
        )
        return row["at"] if row else None

    def polls(self, source: str, *, since: str) -> int:
        """Runs (each at least one request to the site) started at or after `since`."""
        row = self._one(
            "SELECT COUNT(*) AS n FROM runs WHERE source = ? AND started_at >= ?",
            [source, since],
        )
        return row["n"] if row else 0

    def newest_periods(self) -> dict[str, str]:
        """When each source's newest new period first appeared (its metrics' latest
        periods, each by an index lookup)."""
        rows = self._rows(
            """SELECT m.source, MAX((SELECT MIN(o.first_seen) FROM observations o
                                     WHERE o.metric = m.name AND o.period =
                                       (SELECT MAX(period) FROM observations
                                        WHERE metric = m.name))) AS at
               FROM metrics m WHERE m.source != '' GROUP BY m.source"""
        )
        return {row["source"]: row["at"] for row in rows if row["at"]}
