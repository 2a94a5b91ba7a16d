"""Crawling on Scrapyd nodes (`[settings] runner = "scrapyd"`): the daemon stays the one
scheduler and alerter, and the one writer of the database.

For a batch of due sources the runner opens their run rows here, checks the nodes
(`daemonstatus.json`; `listversions.json` must list this daemon's code version), splits
the batch into jobs for the least-busy nodes (`schedule.json`), and follows them
(`listjobs.json`). A finished job's item feed holds its records (scrapers.records),
ingested one transaction per run into runs still open: nothing is stored twice.

Faults end as rows with reasons: a node that refuses the credentials, is down, or runs
other code is not used (and if none is left, the runs fail saying why, which the
source-health rule counts); a node that stops answering, or forgets a job, for
`LOST_AFTER` seconds has its unfinished runs marked interrupted, and those sources are
crawled again on another node. At the time limit or when the daemon stops, jobs are
cancelled (`cancel.json`: first SIGINT, then SIGTERM); what they finished is kept."""

import asyncio
import logging
import math
import os
import sqlite3
import tempfile
import time
import tomllib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from core.status import RunStatus
from jobs.config import Config
from jobs.results import RunResult, from_row
from jobs.scrapyd import client, egg
from jobs.scrapyd.client import Credentials, Node, NodeError, inspect
from jobs.scrapyd.job import SETTING, JobRun, JobSpec
from scrapers.recorder import Recorder
from scrapers.records import Ingested, Known, RecordError, ingest, read_lines
from storage import StorageError, Store

log = logging.getLogger("crossings.scrapyd")

POLL = 0.5  # seconds between looks at the nodes' job lists
LOST_AFTER = 10.0  # seconds a node may fail to answer for, or to list a job, before it is lost
JOB_SOURCES = 50  # sources per Scrapyd job at most
MAX_SPEC = 96 * 1024  # bytes of a job's spec: one command-line argument on the node (128 KiB)
RETRIES = 1  # times a source cut off by a lost node is crawled again on another
INSIST_AFTER = 10.0  # seconds after the time limit's SIGINT before SIGTERM stops a job at once


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


class ScrapydRunner:
    """Crawls on the Scrapyd nodes of `[settings] scrapyd_nodes`."""

    def __init__(self, config: Config, *, timeout: float | None = None) -> None:
        self.config = config
        self.timeout = timeout
        settings = config.settings
        self.urls = list(settings.scrapyd_nodes)
        self.credentials = Credentials(settings.scrapyd_username_env, settings.scrapyd_password_env)
        self.version = egg.version()
        document = tomllib.loads(config.path.read_text(encoding="utf-8"))
        self.tables: dict[str, Any] = document.get("sources", {})
        self.lost_after = LOST_AFTER
        self.insist_after = INSIST_AFTER
        self._jobs: dict[str, Job] = {}
        self._stops = 0
        self._cancelling: set[asyncio.Task] = set()
        self._reported: dict[str, str | None] = {}

    # -- the Runner seam ----------------------------------------------------------------

    async def crawl(self, sources: Sequence[str], *, trigger: str = "schedule") -> list[RunResult]:
        """Crawl `sources` on the nodes; one RunResult per source, in the given order."""
        names = list(dict.fromkeys(sources))
        if not names:
            return []
        try:
            runs = await asyncio.to_thread(self._open, names, trigger)
        except (StorageError, sqlite3.Error, OSError) as error:
            why = f"cannot open the database {self.config.database}: {error}"
            return [RunResult(name, None, RunStatus.FAILED, f"{name}: {why}") for name in names]
        final = {run.source: run.run_id for run in runs}
        avoid: set[str] = set()
        async with client.session() as session:
            nodes = [Node(url, session, self.credentials) for url in self.urls]
            for attempt in range(RETRIES + 1):
                again = await self._attempt(nodes, runs, avoid)
                if not again or attempt == RETRIES or self._stops:
                    break
                retry = [run.source for run in again]
                log.info(
                    "crawling %d source(s) again on another node: %s",
                    len(retry),
                    ", ".join(retry),
                    extra={"fields": {"event": "scrapyd-retry", "sources": retry}},
                )
                try:
                    runs = await asyncio.to_thread(self._open, retry, trigger)
                except (StorageError, sqlite3.Error, OSError):
                    break  # the cut-off runs are closed already, with why
                final.update({run.source: run.run_id for run in runs})
        try:
            rows = await asyncio.to_thread(self._rows, list(final.values()))
        except (StorageError, sqlite3.Error, OSError) as error:
            why = f"cannot read the database {self.config.database}: {error}"
            return [
                RunResult(name, final[name], RunStatus.FAILED, f"{name}: {why}") for name in names
            ]
        return [
            from_row(name, rows[final[name]])
            if final[name] in rows
            else RunResult(name, final[name], RunStatus.FAILED, f"{name}: its run row is gone")
            for name in names
        ]

    def terminate(self) -> None:
        """Cancel every job still running: first SIGINT (Scrapy stops after the requests
        in flight), then SIGTERM (at once)."""
        self._stops += 1
        signal = "INT" if self._stops == 1 else "TERM"
        jobs = [job for job in self._jobs.values() if not job.done]
        for job in jobs:
            job.cancelled = job.cancelled or "the daemon is stopping"
            job.insisted = job.insisted or signal == "TERM"
        if jobs:
            task = asyncio.get_running_loop().create_task(self._cancel(jobs, signal))
            self._cancelling.add(task)
            task.add_done_callback(self._cancelling.discard)

    def pids(self) -> list[int]:
        """None here: the crawls run on the nodes."""
        return []

    def kill(self) -> None:
        """Cancel every job still running with SIGKILL: what they did not send is lost,
        and their runs end `interrupted`."""
        self._stops += 1
        jobs = [job for job in self._jobs.values() if not job.done]
        for job in jobs:
            job.cancelled = job.cancelled or "the daemon is stopping"
            job.insisted = True
        if jobs:
            task = asyncio.get_running_loop().create_task(self._cancel(jobs, "KILL"))
            self._cancelling.add(task)
            task.add_done_callback(self._cancelling.discard)

    # -- one attempt: place, follow, store ----------------------------------------------

    async def _attempt(
        self, nodes: list[Node], runs: list[Opened], avoid: set[str]
    ) -> list[Opened]:
        """Crawl `runs` on the usable nodes not in `avoid`; return the runs cut off by a
        lost node (closed already), whose node is added to `avoid`."""
        usable, problems = await self._usable([node for node in nodes if node.url not in avoid])
        jobs = await self._place(usable, runs, problems)
        await self._follow(jobs)
        again = []
        for job in jobs:
            if job.lost:
                avoid.add(job.node.url)
                again += [run for run in job.runs if run.run_id in job.retry]
        return again

    async def _usable(self, nodes: list[Node]) -> tuple[dict[str, tuple[Node, int]], dict]:
        """The nodes that answer, accept the credentials and run this code, with their
        load (jobs running and pending); and why each other node is not used."""
        reports = await asyncio.gather(*(inspect(node, self.version) for node in nodes))
        usable, problems = {}, {}
        for node, report in zip(nodes, reports, strict=True):
            if report.problem is None:
                usable[node.url] = (node, report.load)
            else:
                problems[node.url] = report.problem
            self._report(node.url, report.problem)
        return usable, problems

    def _report(self, url: str, problem: str | None) -> None:
        """Log a node's problem when it appears or changes, and its recovery."""
        if self._reported.get(url) == problem:
            return
        if problem:
            log.warning(
                "Scrapyd node %s is not used: %s",
                url,
                problem,
                extra={"fields": {"event": "scrapyd-node-unusable", "node": url}},
            )
        elif url in self._reported:
            log.info("Scrapyd node %s is usable again", url)
        self._reported[url] = problem

    async def _place(
        self, usable: dict[str, tuple[Node, int]], runs: list[Opened], problems: dict
    ) -> list[Job]:
        """Schedule the runs as jobs, each on the least-busy node that accepts it; runs no
        node takes are closed failed with every node's reason."""
        load = {url: busy for url, (_, busy) in usable.items()}
        jobs, unplaced = [], []
        for chunk, spec in self._specs(runs, parts=max(1, len(usable))):
            for url in sorted(load, key=load.__getitem__):
                node = usable[url][0]
                job_id = uuid.uuid4().hex
                try:
                    await node.schedule(job_id, self.version, {SETTING: spec})
                except NodeError as error:
                    problems[url] = str(error)
                    self._report(url, str(error))
                    del load[url]
                    continue
                load[url] += 1
                job = Job(node, job_id, chunk, seen=time.monotonic())
                self._jobs[job_id] = job
                jobs.append(job)
                break
            else:
                unplaced += chunk
        if unplaced:
            why = "; ".join(problems.values()) or "no Scrapyd node is configured"
            await asyncio.to_thread(
                self._close_all,
                [(run, RunStatus.FAILED, f"{run.source}: no Scrapyd node can crawl it: {why}")
                 for run in unplaced],
            )  # fmt: skip
        return jobs

    def _specs(self, runs: list[Opened], *, parts: int) -> list[tuple[list[Opened], str]]:
        """The runs cut into jobs (at least one per node, at most JOB_SOURCES each, and
        small enough for a command line), each with its encoded spec."""
        count = min(len(runs), max(parts, math.ceil(len(runs) / JOB_SOURCES)))
        size = math.ceil(len(runs) / count) if count else 0
        pending = [runs[start : start + size] for start in range(0, len(runs), size or 1)]
        done = []
        while pending:
            chunk = pending.pop(0)
            spec = JobSpec(
                self.config.settings,
                self.tables,
                tuple(JobRun(r.source, r.run_id, r.trust_cache, r.known) for r in chunk),
            ).encode()
            if len(spec.encode()) > MAX_SPEC and len(chunk) > 1:
                half = len(chunk) // 2
                pending[:0] = [chunk[:half], chunk[half:]]
                continue
            done.append((chunk, spec))
        return done

    async def _follow(self, jobs: list[Job]) -> None:
        """Poll the nodes until every job has ended and been stored."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        try:
            while open_jobs := [job for job in jobs if not job.done]:
                await asyncio.sleep(POLL)
                if deadline is not None and time.monotonic() > deadline:
                    await self._past_time_limit(open_jobs, time.monotonic() - deadline)
                by_node: dict[str, list[Job]] = {}
                for job in open_jobs:
                    by_node.setdefault(job.node.url, []).append(job)
                await asyncio.gather(*(self._look(group) for group in by_node.values()))
        finally:
            for job in jobs:
                self._jobs.pop(job.job_id, None)

    async def _past_time_limit(self, jobs: list[Job], late_by: float) -> None:
        """Ask the jobs to stop (Scrapy finishes the requests in flight), then insist (at
        once), as the local runner cuts a crawl off at its time limit."""
        asked = [job for job in jobs if not job.cancelled]
        for job in asked:
            job.cancelled = f"it took longer than {self.timeout:g} s"
        await self._cancel(asked, "INT")
        if late_by > self.insist_after:
            stubborn = [job for job in jobs if not job.insisted]
            for job in stubborn:
                job.insisted = True
            await self._cancel(stubborn, "TERM")

    async def _look(self, jobs: list[Job]) -> None:
        node, now = jobs[0].node, time.monotonic()
        try:
            listing = await node.jobs()
        except NodeError as error:
            for job in jobs:
                if now - job.seen > self.lost_after:
                    job.lost = f"the Scrapyd node {node.url} stopped answering mid-crawl ({error})"
                    await self._end(job)
            return
        states: dict[str, tuple[str, dict]] = {
            entry["id"]: (state, entry)
            for state in ("pending", "running", "finished")
            for entry in listing.get(state, [])
        }
        for job in jobs:
            state, entry = states.get(job.job_id, ("", {}))
            if state == "finished":
                job.items_url, job.log_url = entry.get("items_url"), entry.get("log_url")
                await self._end(job)
            elif state:
                job.seen = now
            elif job.cancelled:  # cancelled while pending: it never ran
                await self._end(job)
            elif now - job.seen > self.lost_after:
                job.lost = (
                    f"the Scrapyd node {node.url} no longer lists the job {job.job_id} "
                    "(was it restarted?)"
                )
                await self._end(job)

    async def _end(self, job: Job) -> None:
        """Fetch a finished job's feed, store its complete runs, close the others."""
        with tempfile.TemporaryFile() as feed:
            has_feed = False
            if job.items_url and not job.lost:
                try:
                    await job.node.feed(job.items_url, feed)
                    has_feed = True
                except NodeError as error:
                    job.lost = f"the results could not be fetched ({error})"
            elif not job.items_url and not job.lost and not job.cancelled:
                job.lost = (
                    f"the Scrapyd node {job.node.url} keeps no item feed: set items_dir in "
                    "its scrapyd.conf (see docs/scaling.md)"
                )
            feed.seek(0)
            await asyncio.to_thread(self._store, job, feed if has_feed else None)
        job.done = True

    async def _cancel(self, jobs: list[Job], signal: str) -> None:
        for job in jobs:
            try:
                await job.node.cancel(job.job_id, signal)
            except NodeError as error:
                log.warning("could not cancel job %s on %s: %s", job.job_id, job.node.url, error)

    # -- the database (in a worker thread) -----------------------------------------------

    def _open(self, names: list[str], trigger: str) -> list[Opened]:
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

    def _store(self, job: Job, feed: IO[bytes] | None) -> None:
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

    def _close_all(self, closing: list[tuple[Opened, RunStatus, str]]) -> None:
        with Store(self.config.database) as store:
            for run, status, reason in closing:
                _close(store, run.run_id, status, reason)

    def _rows(self, run_ids: list[int]) -> dict[int, dict]:
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
        if row is None or row["status"] != "running":
            return False
        store.runs.finish(run_id, status, reason=reason)
        return True
