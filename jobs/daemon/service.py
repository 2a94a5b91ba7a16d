"""`crossings run`: the long-running service.

One asyncio event loop holds everything: the APScheduler 3 scheduler (jobs built from the
config at start-up), the crawl queue that starts child processes, the alert worker, and
the HTTP endpoint (health, metrics, web pages). Crawls run in child processes (see
jobs.runner): a crash or leak in a crawl never takes the daemon down, and the daemon
stays small. Alert work runs in lanes of its own (jobs.daemon.alerting): a crawl never
waits for rules or a mail server. The runs table is the memory across restarts: runs left
`running` by a dead process are marked interrupted at start-up (a crawl child a killed
daemon left behind is stopped first), and overdue sources are caught up. A source is
crawled by one process at a time: its `running` run is held by a live process.

Stopping (SIGTERM or SIGINT): scheduling stops, running crawls get `shutdown_grace`
seconds to finish, then their children are asked to stop (they mark their runs
interrupted); the rules are evaluated and the outbox flushed (again at most
`shutdown_grace` seconds); any process still running then is stopped, and the last log
line says which; exit status 0. A second signal stops at once."""

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import time
from collections.abc import Callable, Coroutine
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core import clock
from core.checked import host_port
from core.errors import CrossingsError
from core.status import RunStatus
from jobs.config import Config, unproduced_metrics
from jobs.daemon.alerting import Alerting, never_raising
from jobs.daemon.catchup import due_after, overdue
from jobs.daemon.planned import PlannedPolls
from jobs.daemon.queue import CrawlQueue
from jobs.lifeline import alive, orphaned_child
from jobs.logs import LogFormat, run_summary
from jobs.polling import is_auto
from jobs.results import RunResult
from jobs.runner import runner_for
from jobs.schedule import retry_at, trigger_for
from jobs.web.access import exposure
from jobs.web.app import make_app
from jobs.web.health import SCHEDULER_STATUS
from storage import SourceEntry, StorageError, Store

log = logging.getLogger("crossings.daemon")

BATCH_WINDOW = 1.5  # seconds a due source waits for others due at the same moment
MAX_BATCH = 100  # sources per child process
# After downtime every overdue source is queued at once and crawled in batches this large
# (1,000 overdue sources: about the time of one `crawl --all`): the queue runs one child
# per site at a time, and the child keeps each site's download delay, as `crawl --all` does.
CATCHUP_BATCH = 1000
DELIVERY_TICK = timedelta(seconds=30)  # retries of messages that could not be sent
EVALUATION_TICK = timedelta(seconds=15)  # rules over what was stored, if anything was
RETENTION_EVERY = timedelta(hours=24)
RETENTION_FIRST = timedelta(minutes=10)  # after start-up, once the catch-up has settled
CRAWL_TIMEOUT = timedelta(hours=2)  # a child still crawling after this is stopped (hung)
INSIST_AFTER = 5.0  # seconds between asking crawl children to stop and insisting
INSIST_AFTER_FORCED = 0.5  # the same after a second signal (two signals must not merge)
STOP_WAIT = 15.0  # seconds children get to exit after being told twice
ORPHAN_WAIT = 5.0  # seconds an orphaned crawl child gets to die after SIGKILL


class DaemonError(CrossingsError):
    """The daemon cannot start; the message says why and what to do."""


class Daemon:
    def __init__(
        self, config: Config, *, listen: str | None = None, log_format: LogFormat = "text"
    ) -> None:
        self.config = config
        self.listen = listen or config.settings.listen
        self.zone = config.settings.zone
        self.sources = {name: s for name, s in config.sources.items() if s.enabled}
        self.alerting = Alerting(config, log_format=log_format)
        self.runner = runner_for(config, timeout=CRAWL_TIMEOUT.total_seconds())
        self.scheduler: AsyncIOScheduler | None = None
        self.queue: CrawlQueue | None = None
        self.planned = PlannedPolls(
            config.database, self.sources, self.zone, config.settings.polling_budget, self._submit
        )
        self._stop = asyncio.Event()
        self._now = asyncio.Event()
        self._stopping = False

    async def run(self) -> int:
        """Serve until a signal; the exit status (0 after a clean stop)."""
        lock = _lock(self.config.database)
        try:
            try:
                await asyncio.to_thread(self._prepare_database)
            except StorageError as error:
                raise DaemonError(
                    f"cannot use the database {self.config.database}: {error}. Check that "
                    "the path (`database` in [settings]) is right and writable"
                ) from None
            http = await self._serve_http()
            self._install_signals()
            self._start_scheduler()
            catch_up = asyncio.create_task(self._catch_up(), name="catch-up")
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
            status = await self._shut_down()
            await http.cleanup()
            return status
        finally:
            lock.close()

    # -- start-up ---------------------------------------------------------------------

    def _prepare_database(self) -> None:
        """Migrate, stop the crawl children a killed daemon left behind, mark runs left by
        dead processes, record the configured sources. A run whose process still lives (a
        `crossings crawl` by hand) is left to finish."""
        with Store(self.config.database) as store:
            _stop_orphans({row["pid"] for row in store.stats.running() if row["pid"]})
            dead = {
                row["pid"]
                for row in store.stats.running()
                if row["pid"] is not None and (row["pid"] == os.getpid() or not alive(row["pid"]))
            }
            marked = sum(
                store.runs.mark_interrupted(
                    reason="the crawl process ended before finishing this run (daemon stopped "
                    "or killed); it is caught up now",
                    pid=pid,
                )
                for pid in dead
            )
            if marked:
                log.warning(
                    "marked %d run(s) left unfinished by a stopped daemon as interrupted",
                    marked,
                    extra={"fields": {"event": "interrupted-marked", "runs": marked}},
                )
            for problem in unproduced_metrics(self.config, store.queries.metric_names):
                log.warning("%s", problem, extra={"fields": {"event": "config-warning"}})
            store.catalog.sync_sources(
                SourceEntry(name=name, kind=source.kind, url=source.url, title=source.title)
                for name, source in self.config.sources.items()
            )

    async def _serve_http(self) -> web.AppRunner:
        app = make_app(self.config)
        app[SCHEDULER_STATUS] = self.status
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
        scheduler = AsyncIOScheduler(
            timezone=self.zone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        with Store(self.config.database, read_only=True) as store:
            last_started = store.stats.last_started()
        now = datetime.now(UTC)
        for name, source in self.sources.items():
            if is_auto(source):
                continue  # the release plan schedules it (self.planned)
            trigger = trigger_for(source.schedule, self.zone, jitter=_jitter(source.schedule))
            first = None
            if isinstance(trigger, IntervalTrigger) and name in last_started:
                due = due_after(source.schedule, self.zone, clock.parse(last_started[name]))
                first = due if due and due > now else None
            scheduler.add_job(
                self._source_due, trigger, args=[name], id=f"source:{name}", name=name,
                **({"next_run_time": first} if first else {}),
            )  # fmt: skip
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
        if self.config.rules:  # at start-up (what was stored before a stop), then often
            scheduler.add_job(
                self._in_background("rule evaluation", self.alerting.evaluate_if_due),
                IntervalTrigger(seconds=EVALUATION_TICK.total_seconds()),
                id="evaluate",
                next_run_time=now,
            )
        if self.config.settings.retention_days > 0:
            scheduler.add_job(
                self._guarded("retention", self._prune),
                IntervalTrigger(seconds=RETENTION_EVERY.total_seconds()),
                id="retention",
                next_run_time=now + RETENTION_FIRST,
            )
        self.queue = CrawlQueue(
            self._crawl,
            limit=self.config.settings.max_concurrent_crawls,
            window=BATCH_WINDOW,
            max_batch=MAX_BATCH,
            batch_sizes={"catch-up": CATCHUP_BATCH},
            site_of=lambda name: urlsplit(self.sources[name].url).netloc.lower(),
        )
        self.queue.start()
        self.planned.start(scheduler)
        scheduler.start()
        self.scheduler = scheduler

    async def _catch_up(self) -> None:
        """Queue every overdue source (the queue batches them by site)."""
        try:
            await self._feed_overdue()
        except Exception as error:
            log.exception(
                "catch-up failed: %s; overdue sources run on their next schedule instead", error
            )

    async def _feed_overdue(self) -> None:
        with Store(self.config.database, read_only=True) as store:
            last = {name: clock.parse(at) for name, at in store.stats.last_started().items()}
            failing = store.stats.failing()
        schedules = {
            name: source.schedule
            for name, source in self.sources.items()
            if not is_auto(source)  # caught up by its plan
        }
        late = overdue(schedules, last, self.zone, now=datetime.now(UTC), failing=failing)
        if late:
            log.info(
                "catching up %d overdue source(s): %s",
                len(late),
                ", ".join(late[:10]) + (" …" if len(late) > 10 else ""),
                extra={"fields": {"event": "catch-up", "sources": late}},
            )
        assert self.queue is not None  # set by start-up, before catching up
        for name in late:
            self.queue.submit(name, "catch-up")

    # -- the jobs -----------------------------------------------------------------------

    async def _source_due(self, name: str, trigger: str = "schedule") -> None:
        self._submit(name, trigger)

    def _submit(self, name: str, trigger: str) -> None:
        if self.queue is not None and not self._stopping:
            self.queue.submit(name, trigger)

    def _failing(self) -> dict[str, tuple[int, str]]:
        with Store(self.config.database, read_only=True) as store:
            return store.stats.failing()

    def _plan_retries(self, results: list[RunResult], failing: dict[str, tuple[int, str]]) -> None:
        """A failed source is tried again soon (with backoff), unless its schedule comes
        first; a source that succeeded forgets its pending retry."""
        scheduler = self.scheduler
        if scheduler is None or self._stopping:
            return
        for result in results:
            job_id = f"retry:{result.source}"
            if result.source not in failing or result.source not in self.sources:
                if scheduler.get_job(job_id):
                    scheduler.remove_job(job_id)
                continue
            failures, failed_at = failing[result.source]
            scheduled = scheduler.get_job(f"source:{result.source}")
            at = retry_at(failures, clock.parse(failed_at), scheduled and scheduled.next_run_time)
            if at is None:
                continue
            scheduler.add_job(
                self._source_due, DateTrigger(run_date=at), args=[result.source, "retry"],
                id=job_id, replace_existing=True,
            )  # fmt: skip
            log.info(
                "%s failed %d time(s) in a row: trying again at %s",
                result.source, failures, clock.to_text(at),
                extra={"fields": {"event": "retry-planned", "source": result.source,
                                  "failures": failures, "at": clock.to_text(at)}},
            )  # fmt: skip

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
            await self._replan(sources)
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
        self._plan_retries(results, await asyncio.to_thread(self._failing))
        if not self._now.is_set():  # stopping at once: the next start evaluates
            self.alerting.soon("rule evaluation after a crawl", self.alerting.evaluate())

    def _not_held(self, sources: list[str]) -> list[str]:
        """The sources no live process is crawling (a `crossings crawl` by hand, a child
        left by an earlier daemon): a source's `running` run is its lease."""
        with Store(self.config.database, read_only=True) as store:
            held = {
                row["source"]: row["pid"]
                for row in store.stats.running()
                if row["pid"] and row["pid"] != os.getpid() and alive(row["pid"])
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

    async def _replan(self, sources: list[str]) -> None:
        """Release plans move with what a crawl found; a failure keeps the old plan."""
        if self._stopping:
            return
        try:
            await self.planned.after_crawl(sources)
        except Exception as error:
            log.exception("could not replan polling of %s: %s", ", ".join(sources), error)

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

    # -- health -------------------------------------------------------------------------

    def status(self) -> dict:
        scheduler = self.scheduler
        running = scheduler is not None and scheduler.state == STATE_RUNNING and not self._stopping
        return {
            "running": running,
            "stopping": self._stopping,
            "jobs": len(scheduler.get_jobs()) if scheduler is not None else 0,
            "crawling": sorted(self.queue.running) if self.queue else [],
            "waiting": list(self.queue.pending) if self.queue else [],
        }

    # -- stopping -----------------------------------------------------------------------

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if not self._stopping:
            self._stopping = True
            crawling = len(self.queue.running) if self.queue else 0
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

    async def _shut_down(self) -> int:
        assert self.scheduler is not None and self.queue is not None  # set by start-up
        self.scheduler.pause()
        dropped = await self.queue.stop()
        if dropped:
            log.info("not starting %d waiting source(s): caught up at the next start", len(dropped))
        batches = set(self.queue.batches)
        grace = self.config.settings.shutdown_grace
        if batches and await self._wait(batches, grace, interruptible=True):
            batches = set()
        elif batches and not self._now.is_set():
            log.warning(
                "crawls of %s did not finish within %.0fs: asking them to stop",
                ", ".join(sorted(self.queue.running)),
                grace,
            )
        cut = await self._stop_children(batches) if batches else []
        self.scheduler.shutdown(wait=False)
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


def _jitter(schedule: str) -> int:
    """Random delay added to each firing: a tenth of an interval, at most 10 s (cron: 10 s),
    so that many installs of the same config do not hit a site in the same second while
    sources due together still share a child process."""
    trigger = trigger_for(schedule, UTC)
    if isinstance(trigger, IntervalTrigger):
        return int(min(10.0, trigger.interval.total_seconds() / 10))
    return 10


def _stop_orphans(pids: set[int]) -> None:
    """Kill the crawl children of a daemon that is gone (killed with `kill -9`): they
    would go on writing while this daemon crawls the same sources. Their runs are then
    marked interrupted like any run of a dead process."""
    orphans = [pid for pid in pids if orphaned_child(pid, "jobs.crawl_child")]
    for pid in orphans:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + ORPHAN_WAIT
    while any(alive(pid) for pid in orphans) and time.monotonic() < deadline:
        time.sleep(0.05)
    if orphans:
        log.warning(
            "stopped %d crawl process(es) left running by a daemon that was killed (pid %s)",
            len(orphans),
            ", ".join(map(str, orphans)),
            extra={"fields": {"event": "orphans-stopped", "pids": orphans}},
        )


def _lock(database: Path) -> IO:
    """One daemon per database: two would crawl and alert twice."""
    path = database.parent / (database.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as error:
        raise DaemonError(
            f"cannot create {path}: {error.strerror}. Check that the database folder "
            "(`database` in [settings]) exists or can be created, and is writable"
        ) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise DaemonError(
            f"another `crossings run` (pid {holder}) is already using {database}; stop it "
            "first, or give this one its own `database` in [settings]"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
