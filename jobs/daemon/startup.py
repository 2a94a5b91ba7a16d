"""The daemon's start-up against the database: one daemon per database (a lock file), the
crawl children a killed daemon left behind stopped, runs left `running` by dead processes
marked interrupted, the configured sources recorded."""

import contextlib
import fcntl
import logging
import os
import signal
import time
from pathlib import Path
from typing import IO

from core.errors import CrossingsError
from jobs.config import Config, unproduced_metrics
from jobs.lifeline import alive, orphaned_child
from storage import SourceEntry, Store

log = logging.getLogger("crossings.daemon")

ORPHAN_WAIT = 5.0  # seconds an orphaned crawl child gets to die after SIGKILL


class DaemonError(CrossingsError):
    """The daemon cannot start; the message says why and what to do."""


def prepare_database(config: Config) -> None:
    """Migrate, stop the crawl children a killed daemon left behind, mark runs left by
    dead processes, record the configured sources. A run whose process still lives (a
    `crossings crawl` by hand) is left to finish."""
    with Store(config.database) as store:
        stop_orphans({run.pid for run in store.stats.running() if run.pid})
        dead = {
            run.pid
            for run in store.stats.running()
            if run.pid is not None and (run.pid == os.getpid() or not alive(run.pid))
        }
        marked = sum(
            store.runs.mark_interrupted(
                reason="the crawl process ended before finishing this run (daemon stopped "
                "or killed); it is caught up now",
                pid=pid,
            )
            for pid in dead
        )
        if marked:
            log.warning(
                "marked %d run(s) left unfinished by a stopped daemon as interrupted",
                marked,
                extra={"fields": {"event": "interrupted-marked", "runs": marked}},
            )
        for problem in unproduced_metrics(config, store.queries.metric_names):
            log.error("%s", problem, extra={"fields": {"event": "config-problem"}})
        store.catalog.sync_sources(
            SourceEntry(name=name, kind=source.kind, url=source.url, title=source.title)
            for name, source in config.sources.items()
        )


def stop_orphans(pids: set[int]) -> None:
    """Kill the crawl children of a daemon that is gone (killed with `kill -9`): they
    would go on writing while this daemon crawls the same sources. Their runs are then
    marked interrupted like any run of a dead process."""
    orphans = [pid for pid in pids if orphaned_child(pid, "jobs.runners.child")]
    for pid in orphans:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + ORPHAN_WAIT
    while any(alive(pid) for pid in orphans) and time.monotonic() < deadline:
        time.sleep(0.05)
    if orphans:
        log.warning(
            "stopped %d crawl process(es) left running by a daemon that was killed (pid %s)",
            len(orphans),
            ", ".join(map(str, orphans)),
            extra={"fields": {"event": "orphans-stopped", "pids": orphans}},
        )


def lock(database: Path) -> IO:
    """One daemon per database: two would crawl and alert twice."""
    path = database.parent / (database.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as error:
        raise DaemonError(
            f"cannot create {path}: {error.strerror}. Check that the database folder "
            "(`database` in [settings]) exists or can be created, and is writable"
        ) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise DaemonError(
            f"another `crossings run` (pid {holder}) is already using {database}; stop it "
            "first, or give this one its own `database` in [settings]"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
