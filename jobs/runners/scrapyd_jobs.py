"""The Scrapyd runner's runs and jobs, and its side of the database (in a worker thread):
runs opened here before a job is placed, a finished job's item feed ingested into the
runs still open (nothing is stored twice), and the runs a job left without an outcome
closed with why."""

import logging
import os
import sqlite3
from dataclasses import dataclass, field
from typing import IO

from core.status import RunStatus
from jobs.config import Config
from jobs.scrapyd.client import Node
from scrapers.recorder import Recorder
from scrapers.records import Ingested, Known, RecordError, ingest, read_lines
from storage import Run, StorageError, Store

log = logging.getLogger("crossings.scrapyd")


@dataclass(frozen=True)
class Opened:
    """A run opened here for a source, and what it takes to the node."""

    source: str
    run_id: int
    trust_cache: bool
    known: tuple[Known, ...]


@dataclass
class Job:
    node: Node
    job_id: str
    runs: list[Opened]
    seen: float  # monotonic time the node last listed it
    cancelled: str | None = None  # why it was asked to stop
    insisted: bool = False  # told to stop at once (SIGTERM)
    lost: str | None = None  # why it is given up on
    items_url: str | None = None
    log_url: str | None = None
    done: bool = False
    retry: set[int] = field(default_factory=set)  # runs closed as cut off by a lost node


class RunRows:
    """The runs of Scrapyd jobs in the database this daemon writes alone."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def open(self, names: list[str], trigger: str) -> list[Opened]:
        """Open a run row per source, as a local crawl does (with this daemon's pid: if it
        dies, its next start closes them as interrupted)."""
        opened = []
        with Store(self.config.database) as store, store.transaction():
            recorder = Recorder(store)
            for name in names:
                run = recorder.start(
                    name, self.config.sources[name], trigger=trigger, pid=os.getpid()
                )
                known: tuple[Known, ...] = ()
                if run.trust_cache:
                    known = tuple(
                        Known(s.url, s.etag, s.last_modified, s.sha256)
                        for s in store.snapshots.latest_per_url(name)
                    )
                opened.append(Opened(name, run.run_id, run.trust_cache, known))
        return opened

    def store(self, job: Job, feed: IO[bytes] | None) -> None:
        node = job.node.url
        try:
            with Store(self.config.database) as store:
                done = Ingested((), ())
                if feed is not None:
                    try:
                        done = ingest(store, self.config.sources, read_lines(feed))
                    except RecordError as error:
                        job.lost = str(error)
                for run in job.runs:
                    if run.run_id in done.stored or run.run_id in done.already_closed:
                        continue
                    status, why = _why(job)
                    if _close(store, run.run_id, status, f"{run.source}: {why}") and job.lost:
                        job.retry.add(run.run_id)
        except (StorageError, sqlite3.Error, OSError) as error:
            log.error("could not store the results of job %s from %s: %s", job.job_id, node, error)

    def close_all(self, closing: list[tuple[Opened, RunStatus, str]]) -> None:
        with Store(self.config.database) as store:
            for run, status, reason in closing:
                _close(store, run.run_id, status, reason)

    def rows(self, run_ids: list[int]) -> dict[int, Run]:
        with Store(self.config.database) as store:
            return {run_id: row for run_id in run_ids if (row := store.runs.get(run_id))}


def _why(job: Job) -> tuple[RunStatus, str]:
    """How a run the job left without an outcome ends, and why."""
    node = job.node.url
    if job.cancelled:
        return RunStatus.INTERRUPTED, (
            f"the crawl on {node} was stopped ({job.cancelled}) before this source finished; "
            "it will be fetched again on its next run"
        )
    if job.lost:
        return RunStatus.INTERRUPTED, (
            f"{job.lost}; this source is crawled again on another node if one can take it, "
            "else on its next run"
        )
    return RunStatus.FAILED, (
        f"the crawl on {node} ended without an outcome for this source; its log: "
        f"{node}{job.log_url or ''}"
    )


def _close(store: Store, run_id: int, status: RunStatus, reason: str) -> bool:
    """Close a run still open; False if it was closed already."""
    with store.transaction():
        row = store.runs.get(run_id)
        if row is None or row.status != "running":
            return False
        store.runs.finish(run_id, status, reason=reason)
        return True
