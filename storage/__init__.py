"""Storage: the only code that writes SQL. Everything else uses `Store`."""

# storage.database imports sqlite-utils first, keeping numpy out of every process (see there).
from storage import database  # noqa: F401
from storage.alerts import AlertState, Cursor, Event, Silence, encode_historical_events
from storage.catalog import MetricEntry, SourceEntry
from storage.database import checkpoint
from storage.errors import StorageError
from storage.listings import (
    ArchiveRead,
    EventLine,
    Exported,
    Fetched,
    FiringAlert,
    LastEvent,
    LatestChange,
    MetricSummary,
    RevisedValue,
    SourceHealth,
)
from storage.news import NewsItem
from storage.observations import (
    Arrived,
    Change,
    Observation,
    Point,
    Revision,
    UpsertResult,
    Values,
    Vintage,
)
from storage.outbox import OutboxMessage
from storage.queries import QueryResult
from storage.releases import Arrival
from storage.runs import Run
from storage.snapshots import Provenance, Snapshot
from storage.store import Store

__all__ = [
    "AlertState",
    "ArchiveRead",
    "Arrival",
    "Arrived",
    "Change",
    "Cursor",
    "Event",
    "EventLine",
    "Exported",
    "Fetched",
    "FiringAlert",
    "LastEvent",
    "LatestChange",
    "MetricEntry",
    "MetricSummary",
    "NewsItem",
    "Observation",
    "OutboxMessage",
    "Point",
    "Provenance",
    "QueryResult",
    "RevisedValue",
    "Revision",
    "Run",
    "Silence",
    "Snapshot",
    "SourceEntry",
    "SourceHealth",
    "StorageError",
    "Store",
    "UpsertResult",
    "Values",
    "Vintage",
    "checkpoint",
    "encode_historical_events",
]
