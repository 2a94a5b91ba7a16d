"""The catalogue: configured sources and the metrics they publish, with labels and units,
so every number shown to a user can say what it is and where it came from."""

from collections.abc import Iterable
from dataclasses import dataclass

from core import clock
from storage.repository import Repository


@dataclass(frozen=True)
class SourceEntry:
    name: str
    kind: str
    url: str
    title: str = ""


@dataclass(frozen=True)
class MetricEntry:
    name: str
    label: str = ""
    unit: str = ""
    source: str = ""
    description: str = ""


class Catalog(Repository):
    def sync_sources(self, sources: Iterable[SourceEntry]) -> None:
        """Record the configured sources (a source removed from the config keeps its row,
        so its history stays explained)."""
        at = clock.now()
        with self.transaction():
            for source in sources:
                self.db.execute(
                    """INSERT INTO sources (name, kind, url, title, updated_at)
                       VALUES (?, ?, ?, ?, ?)
                       ON CONFLICT(name) DO UPDATE SET kind = excluded.kind,
                           url = excluded.url, title = excluded.title,
                           updated_at = excluded.updated_at""",
                    (source.name, source.kind, source.url, source.title, at),
                )

    def describe_metrics(self, metrics: Iterable[MetricEntry]) -> None:
        """Add or update metric descriptions; empty fields never erase known ones."""
        at = clock.now()
        with self.transaction():  # one statement for a page's forty metrics, not forty
            self.db.conn.executemany(
                """INSERT INTO metrics (name, label, unit, source, description,
                       created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(name) DO UPDATE SET
                       label = COALESCE(NULLIF(excluded.label, ''), label),
                       unit = COALESCE(NULLIF(excluded.unit, ''), unit),
                       source = COALESCE(NULLIF(excluded.source, ''), source),
                       description = COALESCE(NULLIF(excluded.description, ''), description),
                       updated_at = excluded.updated_at""",
                [(metric.name, metric.label, metric.unit, metric.source, metric.description,
                  at, at) for metric in metrics],
            )  # fmt: skip

    def metric(self, name: str) -> MetricEntry | None:
        row = self._one(
            "SELECT name, label, unit, source, description FROM metrics WHERE name = ?", [name]
        )
        return MetricEntry(**row) if row else None

    def units(self) -> dict[str, str]:
        """Every described metric with its unit."""
        return {row["name"]: row["unit"] for row in self._rows("SELECT name, unit FROM metrics")}

    def metrics_of_source(self, source: str) -> list[str]:
        rows = self._rows("SELECT name FROM metrics WHERE source = ? ORDER BY name", [source])
        return [row["name"] for row in rows]

    def source(self, name: str) -> SourceEntry | None:
        row = self._one("SELECT name, kind, url, title FROM sources WHERE name = ?", [name])
        return SourceEntry(**row) if row else None
