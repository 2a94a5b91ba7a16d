"""Schedules as written in the config: a cron line in the configured timezone, or an
interval such as '6h'. Turned into APScheduler triggers here, and nowhere else. Also when
a source whose run failed is tried again: after 5 min, 15 min, 1 h, 3 h, then every 6 h,
never later than its next scheduled run."""

import functools
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from jobs.typed import DURATION, parse_duration

# Standard cron counts weekdays from Sunday = 0 (or 7); APScheduler 3 from Monday = 0.
# Numbers are rewritten as names so that a cron line means what it means everywhere.
CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
WEEKDAY_NUMBER = re.compile(r"(?<![/\d])\d(?!\d)")
LONGEST_INTERVAL = timedelta(days=366)

if TYPE_CHECKING:  # imported where a trigger is built: commands that read the config only
    from apscheduler.triggers.base import BaseTrigger  # (queries) stay light


RETRY_WAITS = (
    timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=3),
    timedelta(hours=6),
)  # fmt: skip


def retry_at(
    failures: int, failed_at: datetime, next_scheduled: datetime | None
) -> datetime | None:
    """When a source that failed `failures` runs in a row (the last ending `failed_at`)
    is tried again; None when its next scheduled run comes first."""
    wait = RETRY_WAITS[min(max(failures, 1), len(RETRY_WAITS)) - 1]
    at = failed_at + wait
    return at if next_scheduled is None or at < next_scheduled else None


def trigger_for(schedule: str, timezone: tzinfo, *, jitter: int | None = None) -> "BaseTrigger":
    """ValueError with the accepted forms when the text is neither cron nor interval."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    text = schedule.strip()
    if DURATION.match(text):
        interval = parse_duration(text)
        if interval.total_seconds() < 1:
            raise ValueError(f"interval {schedule!r} is shorter than one second")
        if interval > LONGEST_INTERVAL:
            raise ValueError(
                f"interval {schedule!r} is longer than a year; use a cron line for rare runs"
            )
        return IntervalTrigger(seconds=interval.total_seconds(), timezone=timezone, jitter=jitter)
    fields = text.split()
    try:
        if len(fields) != 5:
            raise ValueError(f"found {len(fields)} fields")
        minute, hour, day, month, weekday = fields
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=WEEKDAY_NUMBER.sub(lambda m: CRON_WEEKDAYS[int(m[0]) % 7], weekday),
            timezone=timezone,
            jitter=jitter,
        )
    except ValueError as error:
        raise ValueError(
            f"schedule {schedule!r} is neither a cron line (5 fields: minute hour day month "
            f"weekday, e.g. '17 6 * * *') nor an interval (e.g. '6h'): {error}"
        ) from None


def check_schedule(schedule: str, timezone: tzinfo) -> None:
    """ValueError unless the schedule is well formed and fires at some time: a cron line
    can name a day that never comes ('* * 31 2 *', 31 February)."""
    trigger_for(schedule, timezone)
    if not _ever_fires(schedule.strip()):
        raise ValueError(
            f"schedule {schedule!r} never fires (no such day: check the day and month fields)"
        )


@functools.cache
def _ever_fires(schedule: str) -> bool:
    """Cached: a thousand sources share a few schedules (a cron line that never fires
    takes APScheduler seconds to rule out)."""
    trigger = trigger_for(schedule, UTC)
    return trigger.get_next_fire_time(None, datetime(2000, 1, 1, tzinfo=UTC)) is not None


def next_run(schedule: str, timezone: tzinfo, *, now: datetime) -> datetime | None:
    """When a schedule fires next after `now` (for `crossings check` and catch-up)."""
    return trigger_for(schedule, timezone).get_next_fire_time(None, now)
