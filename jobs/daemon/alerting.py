"""The daemon's alert work: evaluate rules after crawls, deliver the outbox, queue digests.

Rule evaluation and delivery are blocking (SQLite, SMTP, HTTP), so they run in one worker
thread, one piece of work at a time: two crawls finishing together never evaluate the same
rule at once, and the event loop (scheduler, health endpoint) never waits on a mail server.
The alerts package is imported on first use, in that thread (charts, and so matplotlib,
only when a digest is rendered), so that start-up stays fast and the daemon lean."""

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from jobs.config import Config
from storage import Store

log = logging.getLogger("crossings.daemon")


class Alerting:
    def __init__(self, config: Config) -> None:
        self.config = config
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alerts")
        self._busy = 0

    @property
    def busy(self) -> bool:
        return self._busy > 0

    async def after_crawl(self) -> None:
        """Evaluate every rule over what the crawl stored, then send what is due."""
        await self._in_worker("rule evaluation", self._evaluate_and_deliver)

    async def deliver(self) -> None:
        """Send the messages that are due (new ones and retries)."""
        await self._in_worker("alert delivery", self._deliver)

    async def digest(self, name: str) -> None:
        await self._in_worker(f'digest "{name}"', self._queue_digest, name)

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)

    async def _in_worker(self, what: str, work, *args) -> None:
        self._busy += 1
        try:
            await asyncio.get_running_loop().run_in_executor(self._worker, work, *args)
        except Exception as error:
            log.exception(
                "%s failed: %s. Nothing was lost: events and messages stay in the database "
                "and the next run tries again; run `crossings check` if the config changed",
                what,
                error,
                extra={"fields": {"event": "alert-error", "what": what}},
            )
        finally:
            self._busy -= 1

    def _store(self) -> Store:
        return Store(self.config.database)

    def _evaluate_and_deliver(self) -> None:
        from jobs.aftermath import after_crawl

        with self._store() as store:
            after_crawl(self.config, store, now=datetime.now(UTC))

    def _deliver(self) -> None:
        from alerts.delivery import deliver_due

        with self._store() as store:
            deliver_due(
                store,
                self.config.channels,
                templates=self.config.templates,
                now=datetime.now(UTC),
            )

    def _queue_digest(self, name: str) -> None:
        from alerts.digests import queue_digest

        with self._store() as store:
            queue_digest(store, self.config.digests[name], self.config.rules, now=datetime.now(UTC))
        self._deliver()
