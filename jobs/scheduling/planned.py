"""The daemon's side of release-aware polling (see jobs.scheduling.polling): one scheduler job per
planned source, fired when the source's plan says, and replanned after each crawl of the
source (a new release moves the window; a poll spends budget). Kept apart from the
cron jobs so that each can change without the other."""

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger

from core import clock
from jobs.scheduling.polling import Plan, budgets, plan_source, planned
from scrapers.source import Source
from storage import Store

log = logging.getLogger("crossings.daemon")
TRIGGER = "release window"  # the run trigger recorded for polls the plan made


class PlanTrigger(BaseTrigger):
    """Fires when a plan says: the next poll after the previous one."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        return self.plan.next_poll(previous_fire_time or now)

    def __str__(self) -> str:
        return f"plan: {self.plan.words()}"


class PlannedPolls:
    def __init__(
        self,
        database: Path,
        sources: Mapping[str, Source],
        zone: tzinfo,
        per_site: int,
        submit: Callable[[str, str], object],
    ) -> None:
        self.database = database
        self.sources = {name: s for name, s in sources.items() if s.enabled and planned(s)}
        self.zone = zone
        self.budgets = budgets(self.sources, per_site)
        self.submit = submit
        self.scheduler: BaseScheduler | None = None
        self._said: dict[str, str] = {}

    def start(self, scheduler: BaseScheduler) -> None:
        """Add a job per planned source. A source that never ran is polled at once; one
        whose next poll passed while the daemon was down, soon (the catch-up)."""
        self.scheduler = scheduler
        if not self.sources:
            return
        now = datetime.now(UTC)
        with Store(self.database, read_only=True) as store:
            last_started = store.stats.last_started()
            plans = self._plans(store, self.sources, now)
        for name, plan in plans.items():
            last = last_started.get(name)
            first = plan.next_poll(clock.parse(last)) if last else now
            scheduler.add_job(
                self._due, PlanTrigger(plan), args=[name], id=f"release:{name}", name=name,
                **({"next_run_time": max(first, now)} if first else {}),
            )  # fmt: skip
            self._log(name, plan)

    async def after_crawl(self, names: Iterable[str]) -> None:
        """Replan the planned sources among `names` from what their crawl stored."""
        wanted = {name: self.sources[name] for name in names if name in self.sources}
        if not wanted or self.scheduler is None:
            return
        now = datetime.now(UTC)

        def read() -> dict[str, Plan]:
            with Store(self.database, read_only=True) as store:
                return self._plans(store, wanted, now)

        for name, plan in (await asyncio.to_thread(read)).items():
            self.scheduler.reschedule_job(f"release:{name}", trigger=PlanTrigger(plan))
            self._log(name, plan)

    async def _due(self, name: str) -> None:
        self.submit(name, TRIGGER)

    def _plans(self, store: Store, sources: Mapping[str, Source], now: datetime) -> dict:
        return {
            name: plan_source(store, source, self.zone, budget=self.budgets[name], now=now)
            for name, source in sources.items()
        }

    def _log(self, name: str, plan: Plan) -> None:
        """Say the plan when it changes (not after every poll)."""
        said = f"{plan.cadence.words()}; {plan.words(spending=False)}"
        if self._said.get(name) == said:
            return
        self._said[name] = said
        upcoming = plan.next_poll(datetime.now(UTC))
        log.info(
            "%s: %s; %s",
            name,
            plan.cadence.words(),
            plan.words(),
            extra={"fields": {"event": "polling-plan", "source": name,
                              "next_poll": clock.to_text(upcoming) if upcoming else None}},
        )  # fmt: skip
