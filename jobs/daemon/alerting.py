"""The daemon's alert work: evaluate rules after crawls, deliver the outbox, queue digests.

This work renders charts (matplotlib, about 45 MB that never leaves a process once
loaded) and blocks on mail servers, so each piece runs in its own short-lived process
(`jobs.daemon.alert_worker`), one piece at a time: the daemon stays lean, its event loop
(scheduler, health endpoint) never waits on SMTP, and two crawls finishing together never
evaluate a rule at once. A message being sent is leased in the outbox, so nothing is sent
twice even if the daemon stops meanwhile."""

import asyncio
import contextlib
import logging
import sys

from jobs.config import Config
from jobs.logs import LogFormat
from storage import Store, clock

log = logging.getLogger("crossings.daemon")


class Alerting:
    def __init__(self, config: Config, *, log_format: LogFormat = "text") -> None:
        self.config = config
        self.log_format = log_format
        self._one_at_a_time = asyncio.Lock()
        self._worker: asyncio.subprocess.Process | None = None
        self._busy = 0

    @property
    def busy(self) -> bool:
        return self._busy > 0

    async def after_crawl(self) -> None:
        """Evaluate every rule over what the crawl stored, then send what is due."""
        if self.config.rules:
            await self._in_worker("rule evaluation", "after-crawl")
        else:
            await self.deliver()

    async def deliver(self) -> None:
        """Send the messages that are due (new ones and retries), if there are any."""
        if await asyncio.to_thread(self._anything_due):
            await self._in_worker("alert delivery", "deliver")

    async def digest(self, name: str) -> None:
        await self._in_worker(f'digest "{name}"', "digest", name)

    def stop_now(self) -> None:
        """Cut the work in hand short (a second signal): SQLite rolls back what was not
        committed, and a message whose sending was cut off is sent again later."""
        if self._worker is not None and self._worker.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._worker.terminate()

    def _anything_due(self) -> bool:
        with Store(self.config.database, read_only=True) as store:
            return store.stats.outbox_due(clock.now()) > 0

    async def _in_worker(self, what: str, *task: str) -> None:
        self._busy += 1
        try:
            async with self._one_at_a_time:
                self._worker = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "jobs.daemon.alert_worker",
                    "--config", str(self.config.path), "--log-format", self.log_format, *task,
                    stdin=asyncio.subprocess.DEVNULL,
                )  # fmt: skip
                try:
                    status = await self._worker.wait()
                finally:
                    self._worker = None
            if status != 0:
                log.error(
                    "%s failed (the alert worker exited with status %s; its lines are just "
                    "above). Nothing was lost: events and messages stay in the database and "
                    "the next run tries again",
                    what,
                    status,
                    extra={"fields": {"event": "alert-error", "what": what, "status": status}},
                )
        except OSError as error:
            log.error("could not start the alert worker for %s: %s", what, error)
        finally:
            self._busy -= 1
