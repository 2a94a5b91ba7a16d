"""The timetable that holds every scheduled source's next time behind one APScheduler job
(jobs.scheduling.timetable): each source keeps its own times, as with a job of its own."""

import asyncio
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from jobs.scheduling.schedule import trigger_for
from jobs.scheduling.timetable import Timetable

DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


def logged() -> tuple[AsyncIOScheduler, Timetable, list[str]]:
    """A scheduler and its timetable, which logs each source's name when it is due (called
    in the running loop, which the scheduler takes)."""
    jobs = AsyncIOScheduler(timezone=UTC, job_defaults=DEFAULTS)
    log: list[str] = []

    async def due(name: str) -> None:
        log.append(name)

    return jobs, Timetable(jobs, due), log


async def fired_while(timetable: Timetable, jobs: AsyncIOScheduler, count: int, log: list):
    jobs.start()
    try:
        async with asyncio.timeout(30):
            while len(log) < count:
                await asyncio.sleep(0.02)
    finally:
        jobs.shutdown(wait=False)


def test_sources_on_one_schedule_keep_their_own_times():
    """Two sources on `1h` that last ran at different times: each is due at its own time
    and then an hour after it; a third on a cron line goes by its line."""

    async def main() -> None:
        jobs, timetable, log = logged()
        hourly, daily = trigger_for("1h", UTC), trigger_for("17 6 * * *", UTC)
        now = datetime.now(UTC)
        first = {"a": now + timedelta(seconds=0.2), "b": now + timedelta(seconds=0.6)}
        timetable.add("b", hourly, first["b"])
        timetable.add("a", hourly, first["a"])
        timetable.add("c", daily)
        timetable.arm()
        assert timetable.next_run("c") == daily.get_next_fire_time(None, datetime.now(UTC))
        await fired_while(timetable, jobs, 2, log)
        assert log == ["a", "b"]
        assert timetable.next_run("a") == first["a"] + timedelta(hours=1)
        assert timetable.next_run("b") == first["b"] + timedelta(hours=1)
        assert len(timetable) == 3

    asyncio.run(main())


def test_a_time_missed_while_busy_runs_once_and_goes_on_from_the_last_missed():
    async def main() -> None:
        jobs, timetable, log = logged()
        missed = datetime.now(UTC) - timedelta(hours=3, minutes=30)
        timetable.add("late", trigger_for("1h", UTC), missed)
        timetable.arm()
        await fired_while(timetable, jobs, 1, log)
        await asyncio.sleep(0.2)
        assert log == ["late"]  # once, not four times
        assert timetable.next_run("late") == missed + timedelta(hours=4)

    asyncio.run(main())


def test_of_two_sources_on_one_schedule_the_failed_one_is_retried_alone(tmp_path):
    """The retry of a failed source is planned against its own next run: soon when that is
    far, not at all when its schedule comes first; the other source is not touched."""
    from core import clock
    from core.status import RunStatus
    from jobs.config import load
    from jobs.daemon.startup import prepare_database
    from jobs.runners.results import RunResult
    from jobs.scheduling.scheduler import Scheduler
    from storage import Store
    from tests.configs import write_config

    feed = 'kind = "feed"\nurl = "https://example.org/{}.xml"\nschedule = "6h"\n'
    path = write_config(tmp_path, *(f"[sources.{n}]\n" + feed.format(n) for n in ("a", "b")))
    config = load(path)
    prepare_database(config)
    ran = datetime.now(UTC) - timedelta(hours=5, minutes=30)  # next runs in ~30 minutes
    with Store(config.database) as store:
        for name in ("a", "b"):
            store.runs.finish(store.runs.start(name, trigger="schedule"), RunStatus.OK)
        store.db.execute("UPDATE runs SET started_at = ?", (clock.to_text(ran),))

    async def crawl(sources: list[str], trigger: str) -> None:
        pass

    async def main() -> None:
        scheduler = Scheduler(config, dict(config.sources), crawl)
        scheduler.start()
        try:
            next_a = scheduler.timetable.next_run("a")
            assert next_a is not None and abs(next_a - (ran + timedelta(hours=6))) < timedelta(
                seconds=1
            )
            failed_at = clock.to_text(datetime.now(UTC))
            results = [
                RunResult("a", 1, RunStatus.FAILED, "down"),
                RunResult("b", 2, RunStatus.FAILED, "down"),
            ]
            # a failed once: tried again in 5 minutes, before its schedule; b failed three
            # times: its retry would wait an hour, its schedule comes first.
            scheduler.plan_retries(results, {"a": (1, failed_at), "b": (3, failed_at)})
            retries = {job.id: job.next_run_time for job in scheduler.jobs.get_jobs()}
            assert retries["retry:a"] == clock.parse(failed_at) + timedelta(minutes=5)
            assert "retry:b" not in retries
            assert scheduler.status()["jobs"] == 3  # a and b, and a's retry
        finally:
            scheduler.jobs.shutdown(wait=False)

    asyncio.run(main())
