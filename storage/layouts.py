"""Layouts: the headers and row labels of each tabular source as its first good crawl saw
them, so that a later page with a renamed header is noticed without any configuration."""

import json
from dataclasses import dataclass

from core import clock
from storage.repository import Repository


@dataclass(frozen=True)
class RememberedLayout:
    source: str
    columns: tuple[str, ...]
    rows: tuple[str, ...]
    snapshot_id: int | None
    remembered_at: str


class Layouts(Repository):
    def get(self, source: str) -> RememberedLayout | None:
        row = self._one("SELECT * FROM layouts WHERE source = ?", [source])
        if row is None:
            return None
        return RememberedLayout(
            row["source"],
            tuple(json.loads(row["columns"])),
            tuple(json.loads(row["rows"])),
            row["snapshot_id"],
            row["remembered_at"],
        )

    def remember(
        self, source: str, columns: tuple[str, ...], rows: tuple[str, ...], snapshot_id: int
    ) -> None:
        self.db.execute(
            """INSERT INTO layouts (source, columns, rows, snapshot_id, remembered_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (source) DO UPDATE SET columns = excluded.columns,
                   rows = excluded.rows, snapshot_id = excluded.snapshot_id,
                   remembered_at = excluded.remembered_at""",
            (source, json.dumps(list(columns)), json.dumps(list(rows)), snapshot_id,
             clock.now()),
        )  # fmt: skip

    def forget(self, source: str) -> bool:
        """Forget a source's layout: its next good crawl is remembered afresh."""
        return self.db.execute("DELETE FROM layouts WHERE source = ?", [source]).rowcount > 0
