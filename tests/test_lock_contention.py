"""A write lock held by another connection longer than the busy timeout (a backup, a
long query in a sqlite3 shell) delays a run's rows; it does not lose them."""

import sqlite3
import threading

import storage.database
from core.status import RunCounts
from storage import Store


def test_run_rows_are_written_once_a_long_held_write_lock_is_released(tmp_path, monkeypatch):
    path = tmp_path / "crossings.db"
    Store(path).close()
    monkeypatch.setattr(storage.database, "BUSY_TIMEOUT_MS", 100)  # the lock outlasts it
    monkeypatch.setattr(storage.database, "LOCK_RETRY_WAIT", 0.05)
    holder = sqlite3.connect(path, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process's long write transaction
    waiting = threading.Event()
    release = threading.Timer(1.5, lambda: (waiting.wait(), holder.commit()))
    release.start()
    try:
        with Store(path) as store:
            waiting.set()
            run_id = store.runs.start("trac", trigger="schedule", pid=1)
            store.runs.finish(run_id, "failed", reason="HTTP 503", counts=RunCounts(requests=1))
    finally:
        release.join()
        holder.close()
    with Store(path, read_only=True) as store:
        row = store.runs.get(run_id)
    assert (row.status, row.reason) == ("failed", "HTTP 503")
