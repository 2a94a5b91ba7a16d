"""Release-aware polling: poll densely while a source's next release is due, sparsely
otherwise, within a monthly request budget per site.

A source opts in with `schedule = "auto"` (the plan decides every poll) or with a
`releases` hint next to its cron line (the cron keeps polling; the plan adds the dense
polls of the release window). `plan()` is a pure function of the release history, the
hint and the clock, so a test or a benchmark replays a year without sleeping; the
daemon recomputes a source's plan after each of its crawls.

The phases of a plan, for a window from `start` to `end`:
  inside the window, in publishing hours     every `dense` (from the budget, >= 10 min)
  inside the window, other hours             every 4 hours
  the 3 days after the window (late)         hourly in publishing hours, else every 4 hours
  then, while the release is still missing   every 6 hours (auto)
  elsewhere                                  daily (auto) or the cron line alone
The dense interval is what 90% of the budget leaves once the other phases are paid for,
so a wide or irregular window is polled less densely, never more often in total. A
source that has spent those 90% in the last 30 days polls only at the pace the last 10%
allows (daily for 300 a month), so no 30 days ever see more polls than the budget."""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from urllib.parse import urlsplit

from core import clock
from core.formatting import duration
from scrapers.source import Source
from series.releases import (
    Cadence,
    Hint,
    History,
    Window,
    history,
    learn,
    parse_hint,
    windows,
)
from storage import Store

AUTO = "auto"
DENSE_FLOOR = timedelta(minutes=10)  # politeness: never more often than this
SPARSE = timedelta(hours=24)
OFF_HOURS = timedelta(hours=4)
LATE_SPAN = timedelta(days=3)
LATE_EVERY = timedelta(hours=1)
OVERDUE = timedelta(hours=6)
MONTH = timedelta(days=30)
HORIZON = timedelta(days=400)
PLANNED_SHARE = 0.9  # of the budget; the rest pays for polls after it is spent


@dataclass(frozen=True)
class Plan:
    """When to poll one source. `window` is the window polled densely now or next;
    `due` the one in which the release after the last was expected (earlier than
    `window` when that release is late). `sparse` None: the source's cron polls
    outside the windows."""

    cadence: Cadence
    zone: tzinfo
    budget: int
    spent: int
    window: Window | None = None
    due: Window | None = None
    dense: timedelta | None = None
    sparse: timedelta | None = None

    @property
    def over_budget(self) -> bool:
        return self.spent >= self.budget * PLANNED_SHARE

    def every(self, moment: datetime) -> timedelta | None:
        """The polling interval in effect at `moment`; None: no planned polls then."""
        window = self.window
        if self.over_budget:
            return self._spent_every
        if window is None:
            return self.sparse
        if window.contains(moment):
            return self.dense if self._in_hours(moment) else OFF_HOURS
        if window.end <= moment < window.end + LATE_SPAN:
            return LATE_EVERY if self._in_hours(moment) else OFF_HOURS
        if self.sparse is not None and self.due is not None and self.due.end <= moment:
            return min(OVERDUE, self.sparse)  # still missing after its late days
        return self.sparse

    @property
    def _spent_every(self) -> timedelta | None:
        """The interval once the budget is spent: what the last 10% of it allows (30
        days for a budget of 1), never denser than the sparse phase."""
        rest = MONTH / max(1.0, self.budget * (1 - PLANNED_SHARE))
        return max(self.sparse, rest) if self.sparse else None

    def next_poll(self, after: datetime) -> datetime | None:
        """The first planned poll after `after`: one interval on, or sooner where a
        denser phase begins (a window opening is polled at once)."""
        moment = after
        for _ in range(1000):
            every = self.every(moment)
            until = moment + (every or HORIZON)
            changes = [b for b in self._boundaries(moment, until) if b > moment]
            for change in changes:
                then = self.every(change)
                if then is not None and (every is None or then < every):
                    return change
            if every is not None:
                return until
            if not changes:
                return None
            moment = changes[-1]
        return None

    def words(self, *, spending: bool = True) -> str:
        """The plan in a sentence, for `crossings sources` and the source page; with
        `spending`, the budget and what the last 30 days spent."""
        budget = f" (budget {self.budget} polls a month, {self.spent} used in the last 30 days)"
        budget = budget if spending else ""
        outside = f"every {duration(self.sparse)}" if self.sparse else "on the cron line"
        if self.over_budget:
            spent = self._spent_every
            slower = f"every {duration(spent)}" if spent else "on the cron line"
            return f"budget spent: polling {slower} only{budget}"
        if self.window is None:
            why = "release rhythm not known yet" if not self.cadence.known else "no window"
            return f"{why}: polling {outside}{budget}"
        assert self.dense is not None
        hours = " in publishing hours" if self.cadence.hours else ""
        return (
            f"every {duration(self.dense)}{hours} during {self.window.words(self.zone)}, hourly "
            f"for 3 days after it if the release is late, {outside} otherwise{budget}"
        )

    def _in_hours(self, moment: datetime) -> bool:
        if self.cadence.hours is None:
            return True
        opens, closes = self.cadence.hours
        return opens <= moment.astimezone(self.zone).hour < closes

    def _boundaries(self, start: datetime, until: datetime) -> list[datetime]:
        """Moments in [start, until] where the interval may change."""
        window = self.window
        if window is None:
            return []
        late_end = window.end + LATE_SPAN
        found = [window.start, window.end, late_end]
        if self.cadence.hours is not None:
            day = max(start, window.start).astimezone(self.zone).date()
            last = min(until, late_end).astimezone(self.zone).date()
            while day <= last:
                midnight = datetime.combine(day, time(0), self.zone)
                found += [midnight + timedelta(hours=hour) for hour in self.cadence.hours]
                day += timedelta(days=1)
        return sorted(moment for moment in found if start <= moment <= until)

    def _phase_polls(self) -> dict[str, float]:
        """Polls per phase in one month, at full length, without the dense phase."""
        assert self.window is not None
        length = self.window.end - self.window.start
        active = _hours_inside(self.window.start, self.window.end, self.cadence.hours, self.zone)
        late = _hours_inside(
            self.window.end, self.window.end + LATE_SPAN, self.cadence.hours, self.zone
        )
        cycle = MONTH if self.cadence.monthly else self.cadence.cycle
        cycles = MONTH / cycle
        polls = {
            "window, other hours": (length - active) / OFF_HOURS,
            "late, publishing hours": late / LATE_EVERY,
            "late, other hours": (LATE_SPAN - late) / OFF_HOURS,
            "elsewhere": (max(timedelta(0), cycle - length - LATE_SPAN) / self.sparse)
            if self.sparse
            else 0.0,
        }
        if self.dense is not None:
            polls["window, publishing hours"] = active / self.dense
        return {phase: count * cycles for phase, count in polls.items()}


def plan(
    history: History,
    hint: Hint | None,
    zone: tzinfo,
    *,
    now: datetime,
    budget: int,
    spent: int = 0,
    auto: bool = True,
) -> Plan:
    """The polling plan at `now`. `auto`: the plan polls outside windows too (daily);
    otherwise the source's cron does. `spent`: polls in the last 30 days."""
    cadence = learn(history.releases, hint, zone)
    sparse = SPARSE if auto else None
    upcoming = windows(cadence, history.last, zone, watching_since=history.watching_since)
    due = next(upcoming, None)
    window = due
    while window is not None and window.end + LATE_SPAN <= now:
        window = next(upcoming, None)
    if window is None:  # too little known: spread the budget evenly (auto) or keep the cron
        even = max(DENSE_FLOOR, MONTH / max(budget, 1)) if auto else None
        return Plan(cadence, zone, budget, spent, due=due, sparse=even)
    draft = Plan(cadence, zone, budget, spent, window, due, None, sparse)
    cycles = MONTH / (MONTH if cadence.monthly else cadence.cycle)
    left = max(budget * PLANNED_SHARE - sum(draft._phase_polls().values()), budget / 4)
    active = _hours_inside(window.start, window.end, cadence.hours, zone) * cycles
    minutes = math.ceil(active / left / timedelta(minutes=1))
    dense = max(DENSE_FLOOR, timedelta(minutes=minutes))
    return Plan(cadence, zone, budget, spent, window, due, dense, sparse)


def is_auto(source: Source) -> bool:
    """Whether the plan alone schedules this source (it has no cron line)."""
    return source.schedule.strip() == AUTO


def planned(source: Source) -> bool:
    """Whether the plan schedules polls of this source (alone, or beside its cron)."""
    return is_auto(source) or bool(source.releases)


def hint_of(source: Source) -> Hint | None:
    """The source's `releases` hint ("auto" or empty: learn from history alone)."""
    text = source.releases.strip()
    return None if text in ("", AUTO) else parse_hint(text)


def budgets(sources: Mapping[str, Source], per_site: int) -> dict[str, int]:
    """Polls a month for each planned source: its own `budget`, else an equal share of
    the site's budget among the planned sources on the same host."""
    planned_sources = {name: s for name, s in sources.items() if planned(s) and s.enabled}
    hosts: dict[str, list[str]] = {}
    for name, source in planned_sources.items():
        if not source.budget:
            hosts.setdefault(urlsplit(source.url).hostname or "", []).append(name)
    shares = {name: per_site // len(names) for names in hosts.values() for name in names}
    return {name: s.budget or shares[name] for name, s in planned_sources.items()}


def _hours_inside(
    start: datetime, end: datetime, hours: tuple[int, int] | None, zone: tzinfo
) -> timedelta:
    """How much of [start, end) falls in the local publishing hours."""
    if hours is None:
        return end - start
    total = timedelta(0)
    day = start.astimezone(zone).date()
    while day <= end.astimezone(zone).date():
        midnight = datetime.combine(day, time(0), zone)
        opens, closes = midnight + timedelta(hours=hours[0]), midnight + timedelta(hours=hours[1])
        total += max(timedelta(0), min(end, closes) - max(start, opens))
        day += timedelta(days=1)
    return total


def plan_source(store: Store, source: Source, zone: tzinfo, *, budget: int, now: datetime) -> Plan:
    """A configured source's plan from what storage knows of it now."""
    spent = store.releases.polls(source.name, since=clock.to_text(now - MONTH))
    return plan(
        history(store, source.name),
        hint_of(source),
        zone,
        now=now,
        budget=budget,
        spent=spent,
        auto=is_auto(source),
    )
