"""The daemon's alert work: evaluate rules after crawls, deliver the outbox, queue digests.

This work renders charts (matplotlib, about 45 MB that never leaves a process once
loaded) and blocks on mail servers, so it runs in a short-lived worker process, one piece
of work at a time: the daemon stays lean and its event loop (scheduler, health endpoint)
never waits on SMTP, and two crawls finishing together never evaluate a rule at once.
The worker reads the same config file and database; a message it is sending is leased in
the outbox, so nothing is sent twice even if the daemon stops meanwhile."""

import asyncio
import logging
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path

from jobs.config import Config, load
from jobs.logs import LogFormat, setup
from storage import Store, clock

log = logging.getLogger("crossings.daemon")


class Alerting:
    def __init__(self, config: Config, *, log_format: LogFormat = "text") -> None:
        self.config = config
        self.log_format = log_format
        self._worker: ProcessPoolExecutor | None = None  # made on first use (see below)
        self._busy = 0

    def _new_worker(self) -> ProcessPoolExecutor:
        """Made only when there is work: a spawn pool starts multiprocessing's resource
        tracker, one more process (13 MB) that an idle daemon does without."""
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),  # a fresh, lean interpreter
            max_tasks_per_child=1,  # and a new one for each piece of work
            initializer=_worker_start,
            initargs=(self.log_format,),
        )

    @property
    def busy(self) -> bool:
        return self._busy > 0

    async def after_crawl(self) -> None:
        """Evaluate every rule over what the crawl stored, then send what is due."""
        if self.config.rules:
            await self._in_worker("rule evaluation", _after_crawl)
        else:
            await self.deliver()

    async def deliver(self) -> None:
        """Send the messages that are due (new ones and retries), if there are any."""
        if await asyncio.to_thread(self._anything_due):
            await self._in_worker("alert delivery", _deliver)

    async def digest(self, name: str) -> None:
        await self._in_worker(f'digest "{name}"', _queue_digest, name)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=False, cancel_futures=True)

    def _anything_due(self) -> bool:
        with Store(self.config.database, read_only=True) as store:
            return store.stats.outbox_due(clock.now()) > 0

    async def _in_worker(self, what: str, work, *args: str) -> None:
        self._busy += 1
        if self._worker is None:
            self._worker = self._new_worker()
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._worker, work, str(self.config.path), *args
            )
        except BrokenProcessPool:
            # The worker died (killed, out of memory): the next piece of work gets a new one.
            self._worker = self._new_worker()
            log.error(
                "%s was cut off: the alert worker process died. Nothing was lost: the next "
                "run evaluates again and undelivered messages stay in the outbox",
                what,
                extra={"fields": {"event": "alert-error", "what": what}},
            )
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


# The worker's side: module-level functions (the worker process imports this module).


def _worker_start(log_format: LogFormat) -> None:
    """Log like the daemon; leave Ctrl-C (sent to the whole terminal group) to the daemon,
    which lets the piece of work in hand finish."""
    setup(log_format)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _after_crawl(config_path: str) -> None:
    from jobs.aftermath import after_crawl

    config = load(Path(config_path))
    with Store(config.database) as store:
        after_crawl(config, store, now=datetime.now(UTC))


def _deliver(config_path: str) -> None:
    from alerts.delivery import deliver_due

    config = load(Path(config_path))
    with Store(config.database) as store:
        deliver_due(store, config.channels, templates=config.templates, now=datetime.now(UTC))


def _queue_digest(config_path: str, name: str) -> None:
    from alerts.digests import queue_digest

    config = load(Path(config_path))
    with Store(config.database) as store:
        queue_digest(
            store,
            config.digests[name],
            config.rules,
            now=datetime.now(UTC),
            templates=config.templates,
        )
    _deliver(config_path)
