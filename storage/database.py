"""Opening the SQLite file: WAL from creation, a busy timeout and foreign keys on every
connection, and a read-only mode for everything that only queries."""

import contextlib
import itertools
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from storage.errors import StorageError, sqlite_errors


def _import_sqlite_utils() -> ModuleType:
    """sqlite-utils imports numpy, if installed, only to map numpy types (which crossings
    never stores): about 20 MB in every process, the daemon included. Hide numpy during
    that import unless something already loaded it; later imports of numpy still work."""
    if "numpy" in sys.modules:
        import sqlite_utils
    else:
        sys.modules["numpy"] = None  # type: ignore[assignment]
        try:
            import sqlite_utils
        finally:
            del sys.modules["numpy"]
    return sqlite_utils


if TYPE_CHECKING:
    import sqlite_utils
else:
    sqlite_utils = _import_sqlite_utils()

BUSY_TIMEOUT_MS = 15_000
# A transaction waits for the write lock busy timeout after busy timeout, this long in all:
# a run row must not be lost because a backup or a long query held the lock a while.
LOCK_PATIENCE = 600.0
LOCK_RETRY_WAIT = 0.5  # seconds between two busy timeouts
# Savepoint names: unique within a process is enough (they only nest on one connection).
_SAVEPOINTS = itertools.count()


def connect(path: Path | str, *, read_only: bool = False) -> sqlite_utils.Database:
    """Open the database. Read-only connections cannot write even by accident."""
    path = Path(path)
    if read_only:
        if not path.exists():
            raise StorageError(
                f"database {path} does not exist yet: run `crossings crawl --all` or "
                "`crossings run` first, or point --config at the right file"
            )
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if read_only:
        conn.execute("PRAGMA query_only = ON")
        # ATTACH and VACUUM INTO would write other files; no attached database at all.
        conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    return sqlite_utils.Database(conn, execute_plugins=False)


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One atomic unit of writes. The outer level takes the write lock at once
    (BEGIN IMMEDIATE, so concurrent writers wait on the busy timeout instead of failing
    mid-way); nested levels are savepoints."""
    conn = db.conn
    if conn.in_transaction:
        name = f"sp_{next(_SAVEPOINTS)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        conn.execute(f"RELEASE SAVEPOINT {name}")
        return
    _begin(conn)
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def write(db: sqlite_utils.Database, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
    """One statement, atomic by itself: inside a transaction it runs as it is (a savepoint
    around it would undo nothing more, for two statements more: a third of an unchanged
    page's writes), outside one it is its own transaction, as `transaction` makes it."""
    if db.conn.in_transaction:
        return db.execute(sql, params)
    with transaction(db):
        return db.execute(sql, params)


@contextlib.contextmanager
def reading(db: sqlite_utils.Database) -> Iterator[None]:
    """Many reads from one snapshot: what was committed when the first of them ran
    (with WAL, writers go on meanwhile and are not seen)."""
    db.conn.execute("BEGIN")
    try:
        yield
    finally:
        db.conn.execute("ROLLBACK")


def checkpoint(path: Path | str) -> None:
    """Copy into the database file what the WAL holds and no reader still needs (PASSIVE:
    it waits for no lock and blocks no writer). SQLite does it after a commit, in the
    committing process; one that held a read snapshot open meanwhile can do it itself
    when done, on its own core, instead of leaving it to the next commit."""
    with sqlite_errors(f"database {path}"), contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _begin(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock up to LOCK_PATIENCE seconds. Safe to
    retry: nothing has been written when BEGIN fails."""
    deadline = time.monotonic() + LOCK_PATIENCE
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            busy = getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
            if not (busy or "locked" in str(error)) or time.monotonic() >= deadline:
                raise
        time.sleep(LOCK_RETRY_WAIT)
