"""Catch-up after downtime and retries after failures, from the runs table.

A source whose schedule fired while the daemon was down, that never ran, or whose last
run failed is overdue and runs once, soon after start-up; the crawl queue takes the
overdue all at once and never lets two children crawl one site at the same time, so a
long outage costs one crawl of them, never a stampede on a site. A failed run is tried
again with backoff (`jobs.scheduling.schedule.retry_at`)."""

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta, tzinfo

from apscheduler.triggers.interval import IntervalTrigger

from jobs.scheduling.schedule import trigger_for


def due_after(schedule: str, zone: tzinfo, last: datetime) -> datetime | None:
    """When a schedule fires next after a run started at `last`. An interval counts from
    the last run (not from start-up), so restarting the daemon never postpones a crawl."""
    trigger = trigger_for(schedule, zone)
    if isinstance(trigger, IntervalTrigger):
        return last + timedelta(seconds=trigger.interval.total_seconds())
    return trigger.get_next_fire_time(None, last.astimezone(zone))


def overdue(
    schedules: Mapping[str, str],
    last_started: Mapping[str, datetime],
    zone: tzinfo,
    *,
    now: datetime,
    failing: Collection[str] = (),
) -> list[str]:
    """The sources to catch up: those that never ran first, then those whose last run
    failed, then the longest overdue."""
    late: list[tuple[datetime, str]] = []
    never = []
    for name, schedule in schedules.items():
        last = last_started.get(name)
        if last is None or name in failing:
            never.append(name)
        elif (due := due_after(schedule, zone, last)) is not None and due <= now:
            late.append((due, name))
    return never + [name for _, name in sorted(late)]
