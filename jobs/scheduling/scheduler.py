"""What is due when, for the daemon: each scheduled source's next time (interval or cron,
with jitter) in one timetable behind an APScheduler 3 job (jobs.scheduling.timetable),
the release plans (jobs.scheduling.planned), retries of failed sources with backoff, the
catch-up of overdue sources at start-up, and the crawl queue that batches what is due by
site and hands it to the crawl callback. The daemon adds its own periodic jobs (digests,
delivery, evaluation, retention) through `add_job`."""

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core import clock
from jobs.config import Config
from jobs.runners.results import RunResult
from jobs.scheduling.catchup import due_after, overdue
from jobs.scheduling.planned import PlannedPolls
from jobs.scheduling.polling import is_auto
from jobs.scheduling.queue import CrawlQueue
from jobs.scheduling.schedule import retry_at, trigger_for
from jobs.scheduling.timetable import WAKE_ID, Timetable
from scrapers.source import Source
from storage import Store

log = logging.getLogger("crossings.daemon")

BATCH_WINDOW = 1.5  # seconds a due source waits for others due at the same moment
MAX_BATCH = 100  # sources per child process
# After downtime every overdue source is queued at once and crawled in batches this large
# (1,000 overdue sources: about the time of one `crawl --all`): the queue runs one child
# per site at a time, and the child keeps each site's download delay, as `crawl --all` does.
CATCHUP_BATCH = 1000

Crawl = Callable[[list[str], str], Awaitable[None]]


class Scheduler:
    """Submits due sources to the crawl queue, which calls `crawl(sources, trigger)`."""

    def __init__(self, config: Config, sources: Mapping[str, Source], crawl: Crawl) -> None:
        self.database = config.database
        self.zone = config.settings.zone
        self.sources = sources
        self.jobs = AsyncIOScheduler(
            timezone=self.zone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.queue = CrawlQueue(
            crawl,
            limit=config.settings.max_concurrent_crawls,
            window=BATCH_WINDOW,
            max_batch=MAX_BATCH,
            batch_sizes={"catch-up": CATCHUP_BATCH},
            site_of=lambda name: urlsplit(self.sources[name].url).netloc.lower(),
        )
        self.planned = PlannedPolls(
            config.database, sources, self.zone, config.settings.polling_budget, self.submit
        )
        self.timetable = Timetable(self.jobs, self._source_due)
        self.planned_at_start = False
        self.stopping = False
        self.started = False

    def add_job(self, job: Callable[..., Any], trigger: BaseTrigger, **options: Any) -> None:
        """A periodic job of the daemon's own (alert work, retention)."""
        self.jobs.add_job(job, trigger, **options)

    def start(self) -> None:
        """The timetable (if `plan` was not called), the release plans, the queue; then
        the scheduler runs."""
        if not self.planned_at_start:
            self.plan()
        self.queue.start()
        self.planned.start(self.jobs)
        self.jobs.start()
        self.started = True

    def plan(self) -> None:
        """Each scheduled source in the timetable (an interval counts from its last run,
        not from start-up). The daemon does this before it answers /healthz: with 10,000
        sources, a health report read at the same moment left the memory of both
        interleaved, and 10 MB of it kept."""
        with Store(self.database, read_only=True) as store:
            last_started = store.stats.last_started()
        now = datetime.now(UTC)
        # Sources on one schedule share its trigger (a trigger keeps no state of its own):
        # with 10,000 sources, one each was 2 MB of the idle daemon.
        triggers: dict[str, BaseTrigger] = {}
        for name, source in self.sources.items():
            if is_auto(source):
                continue  # the release plan schedules it (self.planned)
            trigger = triggers.get(source.schedule) or triggers.setdefault(
                source.schedule,
                trigger_for(source.schedule, self.zone, jitter=_jitter(source.schedule)),
            )
            first = None
            if isinstance(trigger, IntervalTrigger) and name in last_started:
                due = due_after(source.schedule, self.zone, clock.parse(last_started[name]))
                first = due if due and due > now else None
            self.timetable.add(name, trigger, first)
        self.timetable.arm()
        self.planned_at_start = True

    async def catch_up(self) -> None:
        """Queue every overdue source (the queue batches them by site)."""
        try:
            await self._feed_overdue()
        except Exception as error:
            log.exception(
                "catch-up failed: %s; overdue sources run on their next schedule instead", error
            )

    async def _feed_overdue(self) -> None:
        with Store(self.database, read_only=True) as store:
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
        for name in late:
            self.queue.submit(name, "catch-up")

    async def _source_due(self, name: str, trigger: str = "schedule") -> None:
        self.submit(name, trigger)

    def submit(self, name: str, trigger: str) -> None:
        if self.started and not self.stopping:
            self.queue.submit(name, trigger)

    def failing(self) -> dict[str, tuple[int, str]]:
        with Store(self.database, read_only=True) as store:
            return store.stats.failing()

    def plan_retries(self, results: list[RunResult], failing: dict[str, tuple[int, str]]) -> None:
        """A failed source is tried again soon (with backoff), unless its schedule comes
        first; a source that succeeded forgets its pending retry."""
        if not self.started or self.stopping:
            return
        scheduler = self.jobs
        for result in results:
            job_id = f"retry:{result.source}"
            if result.source not in failing or result.source not in self.sources:
                if scheduler.get_job(job_id):
                    scheduler.remove_job(job_id)
                continue
            failures, failed_at = failing[result.source]
            scheduled = self.timetable.next_run(result.source)
            at = retry_at(failures, clock.parse(failed_at), scheduled)
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

    async def replan(self, sources: list[str]) -> None:
        """Release plans move with what a crawl found; a failure keeps the old plan."""
        if self.stopping:
            return
        try:
            await self.planned.after_crawl(sources)
        except Exception as error:
            log.exception("could not replan polling of %s: %s", ", ".join(sources), error)

    def status(self) -> dict:
        running = self.started and self.jobs.state == STATE_RUNNING and not self.stopping
        return {
            "running": running,
            "stopping": self.stopping,
            "jobs": self._jobs() if self.started else 0,
            "crawling": sorted(self.queue.running) if self.started else [],
            "waiting": list(self.queue.pending) if self.started else [],
        }

    def _jobs(self) -> int:
        """What is scheduled: a job per scheduled source (kept in the timetable, behind
        one wake-up job), a retry or release plan, and the daemon's own jobs."""
        jobs = self.jobs.get_jobs()
        return len(self.timetable) + sum(job.id != WAKE_ID for job in jobs)


def _jitter(schedule: str) -> int:
    """Random delay added to each firing: a tenth of an interval, at most 10 s (cron: 10 s),
    so that many installs of the same config do not hit a site in the same second while
    sources due together still share a child process."""
    trigger = trigger_for(schedule, UTC)
    if isinstance(trigger, IntervalTrigger):
        return int(min(10.0, trigger.interval.total_seconds() / 10))
    return 10
