"""Retention: forgetting old fetch records without losing provenance.

A snapshot row older than the cut-off is pruned only when nothing needs it:
- no observation or news item points at it (every stored value keeps its source page);
- it is not the newest fetch of its URL, nor the newest fetch that holds a body (the next
  crawl sends their ETag / Last-Modified, and a 304 answer points at that body).
A body is pruned when no remaining snapshot row points at it. Work is done in small
transactions so that a crawl writing at the same time never waits long for the lock."""

from dataclasses import dataclass

from storage.repository import Repository, Row

CHUNK = 500  # rows per transaction


@dataclass(frozen=True)
class Pruned:
    snapshots: int = 0
    bodies: int = 0
    bytes: int = 0


class Retention(Repository):
    def prune(self, *, older_than: str) -> Pruned:
        """Delete fetch records fetched before `older_than` (stored timestamp text) and
        the bodies that no fetch record points at any more."""
        snapshots, after = 0, 0
        while ids := self._prunable_snapshots(older_than, after):
            after = ids[-1]
            with self.transaction():
                marks = ",".join("?" * len(ids))
                cursor = self.db.execute(f"DELETE FROM snapshots WHERE id IN ({marks})", ids)
            snapshots += cursor.rowcount
        bodies = freed = 0
        while rows := self._orphan_bodies():
            with self.transaction():
                marks = ",".join("?" * len(rows))
                self.db.execute(
                    f"DELETE FROM bodies WHERE sha256 IN ({marks})", [row["sha256"] for row in rows]
                )
            bodies += len(rows)
            freed += sum(row["stored_size"] for row in rows)
        return Pruned(snapshots=snapshots, bodies=bodies, bytes=freed)

    def _prunable_snapshots(self, older_than: str, after: int) -> list[int]:
        """The next chunk of prunable ids (ascending, after `after`). NOT IN over the
        referencing tables lets SQLite build each lookup set once per chunk."""
        rows = self._rows(
            """SELECT s.id FROM snapshots s
               WHERE s.id > :after AND s.fetched_at < :cutoff
                 AND s.id NOT IN (SELECT snapshot_id FROM observations
                                  WHERE snapshot_id IS NOT NULL)
                 AND s.id NOT IN (SELECT snapshot_id FROM news WHERE snapshot_id IS NOT NULL)
                 AND s.id != (SELECT id FROM snapshots l
                              WHERE l.source = s.source AND l.url = s.url
                              ORDER BY l.fetched_at DESC, l.id DESC LIMIT 1)
                 AND s.id IS NOT (SELECT id FROM snapshots b
                                  WHERE b.source = s.source AND b.url = s.url
                                    AND b.sha256 IS NOT NULL
                                  ORDER BY b.fetched_at DESC, b.id DESC LIMIT 1)
               ORDER BY s.id LIMIT :chunk""",
            {"cutoff": older_than, "after": after, "chunk": CHUNK},
        )
        return [row["id"] for row in rows]

    def _orphan_bodies(self) -> list[Row]:
        return self._rows(
            """SELECT sha256, stored_size FROM bodies
               WHERE NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.sha256 = bodies.sha256)
               LIMIT ?""",
            [CHUNK],
        )
