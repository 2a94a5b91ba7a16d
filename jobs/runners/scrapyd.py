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
import sqlite3
import tempfile
import time
import tomllib
from collections.abc import Sequence
from typing import Any

from core.status import RunStatus
from jobs.config import Config
from jobs.runners.results import RunResult, from_row
from jobs.runners.scrapyd_jobs import Job, Opened, RunRows
from jobs.runners.scrapyd_nodes import Placement
from jobs.scrapyd import client, egg
from jobs.scrapyd.client import Credentials, Node, NodeError
from storage import StorageError

log = logging.getLogger("crossings.scrapyd")

POLL = 0.5  # seconds between looks at the nodes' job lists
LOST_AFTER = 10.0  # seconds a node may fail to answer for, or to list a job, before it is lost
RETRIES = 1  # times a source cut off by a lost node is crawled again on another
INSIST_AFTER = 10.0  # seconds after the time limit's SIGINT before SIGTERM stops a job at once


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
        self.rows = RunRows(config)
        self.placement = Placement(
            config.settings, self.tables, self.version, self.rows, self._jobs
        )

    # -- the Runner seam ----------------------------------------------------------------

    async def crawl(self, sources: Sequence[str], *, trigger: str = "schedule") -> list[RunResult]:
        """Crawl `sources` on the nodes; one RunResult per source, in the given order."""
        names = list(dict.fromkeys(sources))
        if not names:
            return []
        try:
            runs = await asyncio.to_thread(self.rows.open, names, trigger)
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
                    runs = await asyncio.to_thread(self.rows.open, retry, trigger)
                except (StorageError, sqlite3.Error, OSError):
                    break  # the cut-off runs are closed already, with why
                final.update({run.source: run.run_id for run in runs})
        try:
            rows = await asyncio.to_thread(self.rows.rows, list(final.values()))
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
        usable, problems = await self.placement.usable(
            [node for node in nodes if node.url not in avoid]
        )
        jobs = await self.placement.place(usable, runs, problems)
        await self._follow(jobs)
        again = []
        for job in jobs:
            if job.lost:
                avoid.add(job.node.url)
                again += [run for run in job.runs if run.run_id in job.retry]
        return again

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
            await asyncio.to_thread(self.rows.store, job, feed if has_feed else None)
        job.done = True

    async def _cancel(self, jobs: list[Job], signal: str) -> None:
        for job in jobs:
            try:
                await job.node.cancel(job.job_id, signal)
            except NodeError as error:
                log.warning("could not cancel job %s on %s: %s", job.job_id, job.node.url, error)
