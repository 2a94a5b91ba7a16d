"""The Store: one database file and its areas (runs, snapshots, observations and their
past vintages, news, catalogue, alerts, outbox, release history). The rest of crossings
talks to storage only through it."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

from storage.alerts import Alerts
from storage.catalog import Catalog
from storage.database import connect, reading, transaction
from storage.derived import Derived
from storage.errors import sqlite_errors
from storage.history import History
from storage.layouts import Layouts
from storage.migrations import migrate
from storage.news import News
from storage.observations import Observations
from storage.outbox import Outbox
from storage.queries import Queries
from storage.releases import Releases
from storage.retention import Retention
from storage.runs import Runs
from storage.snapshots import Snapshots
from storage.stats import Stats
from storage.views import ensure_views

APPENDING_CACHE_KIB = 512  # a crawl's page cache (`Store.appending`), in KiB


class Store:
    """Open with `Store(path)` to write (migrating an older file in place), or
    `Store(path, read_only=True)` for queries, which can never write."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        with sqlite_errors(f"database {self.path}"):
            self.db = connect(self.path, read_only=read_only)
            if not read_only:
                migrate(self.db)
                ensure_views(self.db)
        self.runs = Runs(self.db)
        self.layouts = Layouts(self.db)
        self.snapshots = Snapshots(self.db)
        self.observations = Observations(self.db)
        self.history = History(self.db)
        self.news = News(self.db)
        self.catalog = Catalog(self.db)
        self.queries = Queries(self.db)
        self.alerts = Alerts(self.db)
        self.outbox = Outbox(self.db)
        self.derived = Derived(self.db)
        self.retention = Retention(self.db)
        self.stats = Stats(self.db)
        self.releases = Releases(self.db)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes across areas into one atomic unit (nests as savepoints)."""
        with sqlite_errors(f"database {self.path}"), transaction(self.db):
            yield

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Read from one snapshot of the database, whatever is committed meanwhile."""
        with sqlite_errors(f"database {self.path}"), reading(self.db):
            yield

    def appending(self) -> None:
        """Set up this connection for a crawl's writes. It appends, so its page cache need
        hold little more than the b-tree paths it appends to (SQLite's default 2 MB filled
        up: 1.6 MB of a first pass's peak RSS). And a page's values are written inside a
        savepoint (`upsert` nests in the page's transaction), whose statement journal
        spills to a temporary file past 64 KiB: 240 values do, a write of every page they
        touch, ~0.15 ms a page; kept in memory, it stays the size of one page's writes."""
        with sqlite_errors(f"database {self.path}"):
            self.db.conn.execute(f"PRAGMA cache_size = -{APPENDING_CACHE_KIB}")
            self.db.conn.execute("PRAGMA temp_store = MEMORY")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
