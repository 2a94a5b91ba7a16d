"""Which Scrapyd nodes crawl a batch: those that answer, accept the credentials and run
this daemon's code, least busy first; the batch cut into jobs small enough for a node's
command line. A node's problem is logged when it appears or changes, and its recovery."""

import asyncio
import logging
import math
import time
import uuid
from typing import Any

from core.status import RunStatus
from jobs.runners.scrapyd_jobs import Job, Opened, RunRows
from jobs.scrapyd.client import Node, NodeError, inspect
from jobs.scrapyd.job import SETTING, JobRun, JobSpec
from jobs.settings import Settings

log = logging.getLogger("crossings.scrapyd")

JOB_SOURCES = 50  # sources per Scrapyd job at most
MAX_SPEC = 96 * 1024  # bytes of a job's spec: one command-line argument on the node (128 KiB)


class Placement:
    """Places runs as jobs on the nodes; every job placed is entered in `jobs` at once
    (so that a stop reaches it)."""

    def __init__(
        self,
        settings: Settings,
        tables: dict[str, Any],
        version: str,
        rows: RunRows,
        jobs: dict[str, Job],
    ) -> None:
        self.settings = settings
        self.tables = tables
        self.version = version
        self.rows = rows
        self.jobs = jobs
        self._reported: dict[str, str | None] = {}

    async def usable(self, nodes: list[Node]) -> tuple[dict[str, tuple[Node, int]], dict]:
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

    async def place(
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
                self.jobs[job_id] = job
                jobs.append(job)
                break
            else:
                unplaced += chunk
        if unplaced:
            why = "; ".join(problems.values()) or "no Scrapyd node is configured"
            await asyncio.to_thread(
                self.rows.close_all,
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
                self.settings,
                self.tables,
                tuple(JobRun(r.source, r.run_id, r.trust_cache, r.known) for r in chunk),
            ).encode()
            if len(spec.encode()) > MAX_SPEC and len(chunk) > 1:
                half = len(chunk) // 2
                pending[:0] = [chunk[:half], chunk[half:]]
                continue
            done.append((chunk, spec))
        return done
