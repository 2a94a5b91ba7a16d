"""`crossings run`: the long-running service.

One asyncio event loop holds everything, wired here: the scheduler (jobs.scheduling:
what is due when, retries, catch-up, the crawl queue), the crawl runner (jobs.runners),
the alert work, and the HTTP endpoint (health, metrics, web pages). Crawls run in child
processes (see jobs.runners.local): a crash or leak in a crawl never takes the daemon
down, and the daemon stays small. Alert work runs in lanes of its own
(jobs.daemon.alerting): a crawl never waits for rules or a mail server. The runs table
is the memory across restarts: runs left `running` by a dead process are marked
interrupted at start-up (a crawl child a killed daemon left behind is stopped first),
and overdue sources are caught up. A source is crawled by one process at a time: its
`running` run is held by a live process.

Start-up against the database is jobs.daemon.startup; stopping, jobs.daemon.stopping.
Stopping (SIGTERM or SIGINT): scheduling stops, running crawls get `shutdown_grace`
seconds to finish, then their children are asked to stop (they mark their runs
interrupted); the rules are evaluated and the outbox flushed (again at most
`shutdown_grace` seconds); any process still running then is stopped, and the last log
line says which; exit status 0. A second signal stops at once."""

import asyncio
import ctypes
import logging
import os
import signal
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta

from aiohttp import web
from apscheduler.triggers.interval import IntervalTrigger

from core import clock
from core.checked import host_port
from core.status import RunStatus
from jobs.config import Config
from jobs.daemon.alerting import Alerting, never_raising
from jobs.daemon.config import enabled
from jobs.daemon.startup import DaemonError, lock, prepare_database
from jobs.daemon.stopping import Shutdown
from jobs.lifeline import alive
from jobs.logs import LogFormat, run_summary
from jobs.runners import runner_for
from jobs.runners.results import RunResult
from jobs.scheduling.schedule import trigger_for
from jobs.scheduling.scheduler import Scheduler
from jobs.web.access import exposure
from jobs.web.app import make_app
from jobs.web.health import SCHEDULER_STATUS
from storage import StorageError, Store

log = logging.getLogger("crossings.daemon")

DELIVERY_TICK = timedelta(seconds=30)  # retries of messages that could not be sent
EVALUATION_TICK = timedelta(seconds=15)  # rules over what was stored, if anything was
RETENTION_EVERY = timedelta(hours=24)
RETENTION_FIRST = timedelta(minutes=10)  # after start-up, once the catch-up has settled
CRAWL_TIMEOUT = timedelta(hours=2)  # a child still crawling after this is stopped (hung)
TRIM_TICK = timedelta(seconds=2)  # freed memory handed back to the system
M_ARENA_MAX = -8  # glibc's mallopt parameter


def heap_trim() -> Callable[[], Coroutine] | None:
    """glibc's `malloc_trim` as a job, with one malloc arena for all threads: what a
    /healthz report (read in a worker thread) or a batch's results allocated and freed
    (13 MB for 10,000 sources) is otherwise kept by the C heap for good; trimming costs
    a millisecond at most, one arena none (the daemon's threads are few and brief). None
    where the C library has no such calls."""
    try:
        libc = ctypes.CDLL(None)  # this process's C library
        malloc_trim, mallopt = libc.malloc_trim, libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt(M_ARENA_MAX, 1)

    async def trim() -> None:
        malloc_trim(0)

    return trim


class Daemon:
    def __init__(
        self, config: Config, *, listen: str | None = None, log_format: LogFormat = "text"
    ) -> None:
        self.config = config
        self.listen = listen or config.settings.listen
        self.zone = config.settings.zone
        self.sources = enabled(config.sources)
        self.alerting = Alerting(config, log_format=log_format)
        self.runner = runner_for(config, timeout=CRAWL_TIMEOUT.total_seconds())
        self.scheduler = Scheduler(config, self.sources, self._crawl)
        self._stop = asyncio.Event()
        self._now = asyncio.Event()
        self._trim = heap_trim()  # before any worker thread has its own arena

    async def run(self) -> int:
        """Serve until a signal; the exit status (0 after a clean stop)."""
        held = lock(self.config.database)
        try:
            try:
                await asyncio.to_thread(prepare_database, self.config)
            except StorageError as error:
                raise DaemonError(
                    f"cannot use the database {self.config.database}: {error}. Check that "
                    "the path (`database` in [settings]) is right and writable"
                ) from None
            self.scheduler.plan()  # before /healthz answers (Scheduler.plan)
            http = await self._serve_http()
            self._install_signals()
            self._start_scheduler()
            catch_up = asyncio.create_task(self.scheduler.catch_up(), name="catch-up")
            log.info(
                "crossings is running: %d source(s), %d rule(s), %d digest(s); database %s; "
                "web pages at http://%s/ (health at /healthz)",
                len(self.sources),
                len(self.config.rules),
                len(self.config.digests),
                self.config.database,
                self.listen,
                extra={"fields": {"event": "started", "pid": os.getpid()}},
            )
            await self._stop.wait()
            catch_up.cancel()
            status = await Shutdown(
                self.scheduler,
                self.alerting,
                self.runner,
                grace=self.config.settings.shutdown_grace,
                now=self._now,
            ).run()
            await http.cleanup()
            return status
        finally:
            held.close()

    # -- start-up ---------------------------------------------------------------------

    async def _serve_http(self) -> web.AppRunner:
        app = make_app(self.config)
        app[SCHEDULER_STATUS] = self.scheduler.status
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            host, port = host_port(self.listen)
            await web.TCPSite(runner, host, port).start()
            if warning := exposure(host, self.config):
                log.warning("%s", warning, extra={"fields": {"event": "config-warning"}})
        except (ValueError, OSError, OverflowError) as error:
            await runner.cleanup()
            raise DaemonError(
                f"cannot listen on {self.listen}: {str(error).rstrip('.')}. "
                "Is the address this machine's, the port free and below 65536? Pass --listen "
                "HOST:PORT or set `listen` in [settings]"
            ) from None
        return runner

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal, signum)

    def _start_scheduler(self) -> None:
        """The scheduler's own jobs (sources, plans, retries), and the daemon's: digests,
        delivery, rule evaluation, retention."""
        scheduler = self.scheduler
        for name, digest in self.config.digests.items():
            scheduler.add_job(
                self._in_background(f'digest "{name}"', self.alerting.digest),
                trigger_for(digest.schedule, self.zone),
                args=[name],
                id=f"digest:{name}",
            )
        scheduler.add_job(
            self._in_background("alert delivery", self.alerting.deliver),
            IntervalTrigger(seconds=DELIVERY_TICK.total_seconds()),
            id="deliver",
        )
        now = datetime.now(UTC)
        if self.config.rules:  # at start-up (what was stored before a stop), then often
            scheduler.add_job(
                self._in_background("rule evaluation", self.alerting.evaluate_if_due),
                IntervalTrigger(seconds=EVALUATION_TICK.total_seconds()),
                id="evaluate",
                next_run_time=now,
            )
        if self._trim is not None:
            scheduler.add_job(
                self._trim,
                IntervalTrigger(seconds=TRIM_TICK.total_seconds()),
                id="trim",
                next_run_time=now,
            )
        if self.config.settings.retention_days > 0:
            scheduler.add_job(
                self._guarded("retention", self._prune),
                IntervalTrigger(seconds=RETENTION_EVERY.total_seconds()),
                id="retention",
                next_run_time=now + RETENTION_FIRST,
            )
        scheduler.start()

    def _in_background(self, what: str, work: Callable[..., Coroutine]) -> Callable:
        """A scheduled job that starts alert work and returns: the work's lane decides
        when it runs, and the scheduler never waits on a mail server."""

        async def start(*args: object) -> None:
            self.alerting.soon(what, work(*args))

        return start

    def _guarded(self, what: str, job: Callable) -> Callable:
        """A scheduled job whose failure is logged with what to do, never raised."""

        async def guarded(*args: object) -> None:
            await never_raising(what, job(*args))

        return guarded

    async def _crawl(self, sources: list[str], trigger: str) -> None:
        """One child process crawls the batch; then a summary line per run, a run row for
        any source the child could not record (every failure is a row); the rules are
        evaluated in the background (the batch does not wait for them)."""
        sources = await asyncio.to_thread(self._not_held, sources)
        if not sources:
            return
        log.info(
            "crawling %d source(s) (%s): %s",
            len(sources),
            trigger,
            ", ".join(sources[:10]) + (" …" if len(sources) > 10 else ""),
            extra={"fields": {"event": "crawl-start", "sources": sources, "trigger": trigger}},
        )
        try:
            results = await self.runner.crawl(sources, trigger=trigger)
        finally:
            await self.scheduler.replan(sources)
        unrecorded = [result for result in results if result.run_id is None]
        if unrecorded:
            try:
                await asyncio.to_thread(self._record, unrecorded, trigger)
            except StorageError as error:
                log.error(
                    "could not record the failed run(s) of %s: %s (the database stayed locked "
                    "or unwritable; see the reasons in the lines below)",
                    ", ".join(result.source for result in unrecorded),
                    error,
                )
        for result in results:
            text, fields = run_summary(result, trigger)
            log.log(
                logging.INFO if result.succeeded else logging.WARNING,
                text,
                extra={"fields": fields},
            )
        self.scheduler.plan_retries(results, await asyncio.to_thread(self.scheduler.failing))
        if not self._now.is_set():  # stopping at once: the next start evaluates
            self.alerting.soon("rule evaluation after a crawl", self.alerting.evaluate())

    def _not_held(self, sources: list[str]) -> list[str]:
        """The sources no live process is crawling (a `crossings crawl` by hand, a child
        left by an earlier daemon): a source's `running` run is its lease."""
        with Store(self.config.database, read_only=True) as store:
            held = {
                run.source: run.pid
                for run in store.stats.running()
                if run.pid and run.pid != os.getpid() and alive(run.pid)
            }
        for name in sources:
            if name in held:
                log.warning(
                    "%s is being crawled by another process (pid %s): skipped (one crawl of a "
                    "source at a time)",
                    name,
                    held[name],
                    extra={"fields": {"event": "held", "source": name, "pid": held[name]}},
                )
        return [name for name in sources if name not in held]

    def _record(self, results: list[RunResult], trigger: str) -> None:
        with Store(self.config.database) as store:
            for result in results:
                run_id = store.runs.start(result.source, trigger=trigger, pid=None)
                status = (
                    RunStatus.INTERRUPTED
                    if result.status is RunStatus.INTERRUPTED
                    else RunStatus.FAILED
                )
                store.runs.finish(run_id, status, reason=result.reason)

    async def _prune(self) -> None:
        cutoff = clock.to_text(
            datetime.now(UTC) - timedelta(days=self.config.settings.retention_days)
        )

        def prune() -> None:
            with Store(self.config.database) as store:
                pruned = store.retention.prune(older_than=cutoff)
            log.info(
                "retention: pruned %d fetch record(s) and %d body(ies), %.1f MB, older than %s",
                pruned.snapshots,
                pruned.bodies,
                pruned.bytes / 1e6,
                cutoff,
                extra={"fields": {"event": "retention", **vars(pruned)}},
            )

        await asyncio.to_thread(prune)

    # -- stopping -----------------------------------------------------------------------

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if not self.scheduler.stopping:
            self.scheduler.stopping = True
            crawling = len(self.scheduler.queue.running)
            log.info(
                "%s: stopping. %d source(s) crawling get %.0fs to finish; send %s again to "
                "stop at once",
                name,
                crawling,
                self.config.settings.shutdown_grace,
                name,
                extra={"fields": {"event": "stopping", "signal": name}},
            )
            self._stop.set()
        else:
            log.warning(
                "%s again: stopping at once; crawls still running are cut off (marked "
                "interrupted, caught up at the next start)",
                name,
                extra={"fields": {"event": "stopping-now", "signal": name}},
            )
            self._now.set()
