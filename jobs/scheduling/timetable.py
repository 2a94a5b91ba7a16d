"""When each scheduled source is next due: one heap of (time, source) behind ONE APScheduler
job that wakes at the earliest, instead of an APScheduler job per source (with 10,000
sources those jobs held 9 MB of the idle daemon; this holds ~1.5).

Each source's times are what its own job gave: its schedule's trigger (shared by the
sources on that schedule; a trigger keeps no state) says the next time from the previous
one, jitter included; a source whose time passed while the daemon was busy runs once and
goes on from the last time it missed (APScheduler's `coalesce`, no misfire limit)."""

import heapq
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger

WAKE_ID = "sources"


class Timetable:
    def __init__(self, jobs: BaseScheduler, due: Callable[[str], Awaitable[None]]) -> None:
        self.jobs = jobs
        self.due = due  # called with each source whose time came
        self._next: dict[str, datetime] = {}
        self._trigger: dict[str, BaseTrigger] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._armed: datetime | None = None

    def add(self, name: str, trigger: BaseTrigger, first: datetime | None = None) -> None:
        """Schedule `name` by `trigger`, first at `first` (default: the trigger's first
        time from now)."""
        when = first or trigger.get_next_fire_time(None, datetime.now(UTC))
        self._trigger[name] = trigger
        self._put(name, when)

    def next_run(self, name: str) -> datetime | None:
        return self._next.get(name)

    def __len__(self) -> int:
        return len(self._next)

    def arm(self) -> None:
        """Wake at the earliest time (again, when it moved)."""
        top = self._top()
        if top is None or top == self._armed:
            return
        self._armed = top
        self.jobs.add_job(self._wake, DateTrigger(run_date=top), id=WAKE_ID, replace_existing=True)

    async def _wake(self) -> None:
        self._armed = None
        try:
            await self._run_due()
        finally:
            self.arm()

    async def _run_due(self) -> None:
        now = datetime.now(UTC)
        while (top := self._top()) is not None and top <= now:
            _, name = heapq.heappop(self._heap)
            trigger, last = self._trigger[name], self._next.pop(name)
            following = trigger.get_next_fire_time(last, now)
            while following is not None and following <= now:  # missed: run once
                last, following = following, trigger.get_next_fire_time(following, now)
            if following is not None:
                self._put(name, following)
            await self.due(name)

    def _put(self, name: str, when: datetime | None) -> None:
        if when is None:
            return  # never again
        self._next[name] = when
        heapq.heappush(self._heap, (when, name))

    def _top(self) -> datetime | None:
        """The earliest time, dropping entries a source no longer has."""
        while self._heap and self._next.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None
