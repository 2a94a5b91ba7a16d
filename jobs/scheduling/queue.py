"""The crawl queue: sources that fall due wait here a moment, so that those due together
are crawled together by one child process (1,000 sources on the same schedule cost a few
process starts, not 1,000).

Rules it keeps: a source is never crawled twice at once (a source due again while pending
or running is coalesced into the run already coming); at most `limit` batches run at a
time; while every slot is busy, due sources keep joining the next batch; and a site is
crawled by one child at a time (a batch never takes a source whose site a running batch
holds), so the site's download delay, which each child keeps, holds across children."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("crossings.daemon")

Crawl = Callable[[list[str], str], Awaitable[None]]


class CrawlQueue:
    def __init__(
        self,
        crawl: Crawl,
        *,
        limit: int,
        window: float,
        max_batch: int,
        batch_sizes: dict[str, int] | None = None,
        site_of: Callable[[str], str] = lambda source: source,
    ) -> None:
        self.crawl = crawl
        self.window = window
        self.max_batch = max_batch
        self.batch_sizes = batch_sizes or {}  # by trigger, where it differs from max_batch
        self.site_of = site_of
        self.pending: dict[str, str] = {}  # source -> trigger, in the order they fell due
        self.running: set[str] = set()
        self.busy_sites: dict[str, int] = {}  # site -> running sources on it
        self.batches: set[asyncio.Task] = set()
        self._slots = asyncio.Semaphore(limit)
        self._due = asyncio.Event()
        self._dispatcher: asyncio.Task | None = None

    def start(self) -> None:
        self._dispatcher = asyncio.create_task(self._dispatch(), name="crawl-queue")

    def submit(self, source: str, trigger: str) -> bool:
        """Queue a due source; False (and a log line) if it is already pending or running."""
        if self._dispatcher is None or self._dispatcher.done():
            return False
        if source in self.running or source in self.pending:
            state = "running" if source in self.running else "waiting to run"
            log.info(
                "%s is due again while still %s: skipped (one run at a time)",
                source,
                state,
                extra={"fields": {"event": "coalesced", "source": source}},
            )
            return False
        self.pending[source] = trigger
        self._due.set()
        return True

    async def stop(self) -> list[str]:
        """Start nothing more; return the sources that were waiting (the next start-up's
        catch-up runs them)."""
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
        dropped, self.pending = list(self.pending), {}
        return dropped

    async def _dispatch(self) -> None:
        while True:
            await self._due.wait()
            await asyncio.sleep(self.window)  # let the sources due together arrive
            await self._slots.acquire()
            batch, trigger = self._take()
            if not self.pending or not batch:
                self._due.clear()  # a finishing batch sets it again for those left waiting
            if not batch:
                self._slots.release()
                continue
            task = asyncio.create_task(self._run(batch, trigger), name=f"crawl {batch[0]}…")
            self.batches.add(task)
            task.add_done_callback(self.batches.discard)

    def _take(self) -> tuple[list[str], str]:
        """Up to a batch of the oldest pending trigger's sources whose sites no running
        batch holds, moved to running (none, if every one of them waits for its site)."""
        free = [name for name in self.pending if self.site_of(name) not in self.busy_sites]
        if not free:
            return [], ""
        trigger = self.pending[free[0]]
        size = self.batch_sizes.get(trigger, self.max_batch)
        batch = [name for name in free if self.pending[name] == trigger][:size]
        for name in batch:
            del self.pending[name]
            site = self.site_of(name)
            self.busy_sites[site] = self.busy_sites.get(site, 0) + 1
        self.running.update(batch)
        return batch, trigger

    async def _run(self, batch: list[str], trigger: str) -> None:
        try:
            await self.crawl(batch, trigger)
        except Exception:
            log.exception("crawl of %s failed in the daemon; the daemon goes on", ", ".join(batch))
        finally:
            self.running.difference_update(batch)
            for name in batch:
                site = self.site_of(name)
                self.busy_sites[site] -= 1
                if not self.busy_sites[site]:
                    del self.busy_sites[site]
            self._slots.release()
            if self.pending:
                self._due.set()  # sources that waited for a site held by this batch
