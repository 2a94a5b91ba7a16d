"""Stopping the daemon (SIGTERM or SIGINT): scheduling stops, running crawls get
`shutdown_grace` seconds to finish, then their children are asked to stop (they mark
their runs interrupted), insisted with, then killed; the rules are evaluated and the
outbox flushed (again at most `shutdown_grace` seconds); any process still running then
is stopped, and the last log line says which. A second signal (`now`) stops at once."""

import asyncio
import logging
from collections.abc import Set as AbstractSet

from jobs.daemon.alerting import Alerting
from jobs.runners import Runner
from jobs.scheduling.scheduler import Scheduler

log = logging.getLogger("crossings.daemon")

INSIST_AFTER = 5.0  # seconds between asking crawl children to stop and insisting
INSIST_AFTER_FORCED = 0.5  # the same after a second signal (two signals must not merge)
STOP_WAIT = 15.0  # seconds children get to exit after being told twice


class Shutdown:
    def __init__(
        self,
        scheduler: Scheduler,
        alerting: Alerting,
        runner: Runner,
        *,
        grace: float,
        now: asyncio.Event,
    ) -> None:
        self.scheduler = scheduler
        self.queue = scheduler.queue
        self.alerting = alerting
        self.runner = runner
        self.grace = grace
        self._now = now

    async def run(self) -> int:
        """Stop everything; the exit status (0 clean, 1 stopped at once)."""
        self.scheduler.jobs.pause()
        dropped = await self.queue.stop()
        if dropped:
            log.info("not starting %d waiting source(s): caught up at the next start", len(dropped))
        batches = set(self.queue.batches)
        grace = self.grace
        if batches and await self._wait(batches, grace, interruptible=True):
            batches = set()
        elif batches and not self._now.is_set():
            log.warning(
                "crawls of %s did not finish within %.0fs: asking them to stop",
                ", ".join(sorted(self.queue.running)),
                grace,
            )
        cut = await self._stop_children(batches) if batches else []
        self.scheduler.jobs.shutdown(wait=False)
        if not self._now.is_set():
            self.alerting.soon("the final rule evaluation and flush", self.alerting.evaluate())
            if not await self._wait(set(self.alerting.tasks), grace, interruptible=True):
                log.warning(
                    "rule evaluation and delivery did not finish within %.0fs: stopping them; "
                    "what they had not done is done at the next start",
                    grace,
                )
        cut += await self.alerting.stop_now()
        fields = {"event": "stopped", "cut_off": cut}
        if self._now.is_set():
            log.warning(
                "stopped at once%s; unsent messages stay in the outbox",
                f" (stopped {', '.join(cut)})" if cut else "",
                extra={"fields": fields},
            )
            return 1
        if cut:
            log.warning(
                "stopped; these processes had to be stopped: %s (cut-off runs are marked "
                "interrupted; a message that was being sent is sent again once its 5-minute "
                "lease runs out)",
                ", ".join(cut),
                extra={"fields": fields},
            )
        else:
            log.info(
                "stopped cleanly: every process it started has exited", extra={"fields": fields}
            )
        return 0

    async def _wait(
        self, tasks: AbstractSet[asyncio.Future], timeout: float, *, interruptible: bool
    ) -> bool:
        """Wait up to `timeout` for the tasks (or, if interruptible, until a second
        signal); True if they all finished."""
        waiters: set[asyncio.Future] = {asyncio.ensure_future(asyncio.wait(tasks))}
        if interruptible:
            waiters.add(asyncio.ensure_future(self._now.wait()))
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return all(task.done() for task in tasks)

    async def _stop_children(self, batches: AbstractSet[asyncio.Future]) -> list[str]:
        """Scrapy finishes the requests in flight on a first SIGTERM (a slow site can
        hold it for the whole request timeout) and stops at once on a second: ask, then
        insist, then kill. The child marks its cut-off runs interrupted (a killed one's
        runs are marked by its runner). Returns the crawl processes stopped."""
        stopped = [f"crawl (pid {pid})" for pid in self.runner.pids()]
        self.runner.terminate()
        patience = INSIST_AFTER_FORCED if self._now.is_set() else INSIST_AFTER
        if await self._wait(batches, patience, interruptible=True):
            return stopped
        self.runner.terminate()
        if await self._wait(batches, STOP_WAIT, interruptible=False):
            return stopped
        pids = self.runner.pids()
        log.error(
            "crawl process(es) %s did not exit after being told twice to stop: killed",
            ", ".join(map(str, pids)),
        )
        self.runner.kill()
        await self._wait(batches, STOP_WAIT, interruptible=False)
        return stopped
