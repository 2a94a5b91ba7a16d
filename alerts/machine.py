"""The state machine every stateful rule shares, used alike by the engine (step by step,
after each crawl) and by a backtest (over the whole history at once), so both find the
same days.

Per (rule, series): inactive -> firing -> resolved (-> firing ...). A condition must hold
`for` (periods in a row, or calendar days) before the alert fires, and the resolve
condition `resolve_for` before it resolves; with `lift_after` the alert stays firing that
many calendar days longer and then resolves, unless the fire condition comes back first.
Calendar streaks never stretch over a gap: a missing day starts them again. A period is a
whole span of days: a streak from 5 to 7 June has held 3 days once 7 June is judged."""

import operator
from dataclasses import dataclass
from datetime import date, timedelta

from alerts.rule import Judged, StatefulRule, Step
from core.periods import Period
from series.windows import Span
from storage import AlertState


@dataclass(frozen=True)
class Transition:
    """A change the machine decided: 'firing', 'resolved' or 'nodata', at `period`."""

    kind: str
    period: str
    step: Step
    says: str


def advance(state: AlertState, step: Step, rule: StatefulRule, at: str) -> list[Transition]:
    """Judge one step; move `state` (its `detail` keeps the streaks) and say what changed.
    A period judged again (a preliminary figure revised) replaces its own judgement."""
    memory = state.detail
    same = step.period == state.period
    state.value, state.period = step.value, step.period
    if step.missing:
        memory.pop("fire", None)
        memory.pop("clear", None)
        lifted = _lift(state, step, rule, at)
        if lifted:
            return [lifted]
        found = []
        if rule.no_data == "resolve" and state.state == "firing":
            found.append(_move(state, "resolved", step, at, f"no data: {step.words()}"))
        elif rule.no_data == "alert" and not memory.get("missing"):
            found.append(Transition("nodata", step.period, step, f"no data: {step.words()}"))
        memory["missing"] = memory.get("missing") or step.period
        return found
    if "missing" in memory:
        del memory["missing"]
    if state.state == "firing":
        memory.pop("fire", None)
        if step.fire:  # the condition is back: any countdown to lifting is cancelled
            memory.pop("clear", None)
            memory.pop("lift", None)
            return []
        lift = memory.get("lift")
        if lift is not None:
            if same and lift[2] == step.period and not step.clear:
                del memory["lift"]  # the day that met the resolve condition was revised
            elif lifted := _lift(state, step, rule, at):
                return [lifted]
            else:
                return []
        if not _streak(memory, "clear", step.clear, step.period, same, rule.resolve_for):
            return []
        says = step.words()
        if rule.resolve_for.length > 1:
            says = _held(says, memory["clear"][0], step.period, rule.resolve_for)
        if rule.lift_after is None:
            return [_move(state, "resolved", step, at, says)]
        met = Period(step.period).days
        if met is None:
            raise ValueError(f"lift_after needs dated periods; {step.series} has {step.period!r}")
        lift_at = met[1] - timedelta(days=1) + timedelta(days=rule.lift_after.days)
        memory["lift"] = [lift_at.isoformat(), says, step.period]
        return []
    memory.pop("clear", None)
    if _streak(memory, "fire", step.fire, step.period, same, rule.for_):
        says = step.words()
        if rule.for_.length > 1:
            says = _held(says, memory["fire"][0], step.period, rule.for_)
        return [_move(state, "firing", step, at, says)]
    return []


def advance_all(state: AlertState, judged: Judged, rule: StatefulRule, at: str) -> list[Transition]:
    """`advance` over every period of `judged`, oldest first, with the same result — but a
    `Step` is built only for a period that may move the state. The periods between (the
    condition to fire absent while not firing; while firing, the condition to fire
    present, or the resolve condition absent with no lift pending) only end streaks, done
    here once per run of them; the next period that matters is found by `list.index`, in
    C, so twenty quiet years cost little more than reading them."""
    found: list[Transition] = []
    memory = state.detail
    n = len(judged)
    fire, missing = judged.fire, judged.missing
    # where a period may matter: while not firing, and while firing (no lift pending)
    # (in C: for flags that are bools, `c > f` is `c and not f`, `|` is `or`)
    wakes = list(map(operator.or_, fire, missing))
    wakes_firing = list(map(operator.or_, missing, map(operator.gt, judged.clear, fire)))
    # For a rule that fires and resolves on one period and lifts nothing, a period that
    # wakes the machine (not missing, not the last period judged again) moves it: fire
    # while not firing, resolve while firing. `advance` would start a streak of one and
    # end it at once; the state it leaves is this one.
    at_once = _at_once(rule)
    periods = judged.periods
    i = 0
    while i < n:
        ended = _ENDED
        woken = True  # found by a wake list: the period may move the state
        if state.state != "firing":
            nxt = _next(wakes, i, n)
        elif "lift" not in memory:
            nxt = _next(wakes_firing, i, n)  # fire steps would end a lift too: there is none
        elif fire[i] and not missing[i]:
            nxt, ended = i + 1, _ENDED_BY_FIRE  # the fire condition is back: no lift
        else:
            nxt, woken = (
                i,
                False,
            )  # a lift pending: any period without the fire condition may lift it
        if nxt > i:
            if memory:
                for name in ended:
                    memory.pop(name, None)
            state.value, state.period = judged.values[nxt - 1], periods[nxt - 1]
            i = nxt
            continue
        if at_once and woken and not missing[i] and periods[i] != state.period:
            step = judged.step(i)
            state.value, state.period = step.value, step.period
            if memory:
                for name in _ENDED_BY_FIRE:
                    memory.pop(name, None)
            kind = "resolved" if state.state == "firing" else "firing"
            found.append(_move(state, kind, step, at, step.words()))
        else:
            found += advance(state, judged.step(i), rule, at)
        i += 1
    return found


def _at_once(rule: StatefulRule) -> bool:
    """Whether the rule fires on the first period its condition holds and resolves on the
    first its resolve condition holds, with nothing to lift later."""
    return (rule.lift_after is None and not rule.for_.calendar and rule.for_.periods <= 1
            and not rule.resolve_for.calendar and rule.resolve_for.periods <= 1)  # fmt: skip


_ENDED: tuple[str, ...] = ("missing", "fire", "clear")  # what a quiet period ends
_ENDED_BY_FIRE = ("missing", "fire", "clear", "lift")  # ... and the fire condition while firing


def _next(wakes: list[bool], start: int, end: int) -> int:
    """The first index from `start` on where `wakes` is true, or `end`."""
    try:
        return wakes.index(True, start)
    except ValueError:
        return end


def _lift(state: AlertState, step: Step, rule: StatefulRule, at: str) -> Transition | None:
    """Resolve on the day a pending lift falls due (judged at that day or a later one)."""
    lift = state.detail.get("lift")
    if state.state != "firing" or not lift:
        return None
    now = Period(step.period).days
    if now is None or now[0] < date.fromisoformat(lift[0]):
        return None
    says = f"{lift[1]}; lifted {rule.lift_after} after that was met on {lift[2]}"
    return _move(state, "resolved", step, at, says, period=lift[0])


def _move(
    state: AlertState, kind: str, step: Step, at: str, says: str, *, period: str | None = None
) -> Transition:
    state.state, state.since = kind, at
    for name in ("fire", "clear", "lift"):
        state.detail.pop(name, None)
    return Transition(kind, period or step.period, step, says)


def _streak(memory: dict, name: str, holds: bool, period: str, same: bool, need: Span) -> bool:
    """Extend (or restart, or end) a streak with this period — kept as [first period,
    periods, end of the last day] — and say whether it has held `need`. Calendar streaks
    restart after a gap between periods."""
    if not holds:
        memory.pop(name, None)
        return False
    if not need.calendar:
        streak = memory.get(name)
        if streak is None:
            streak = memory[name] = [period, 0, ""]
        if not same or streak[1] == 0:
            streak[1] += 1
        return streak[1] >= need.periods
    days = Period(period).days
    if days is None:
        raise ValueError(f"{need} needs dated periods (2024-06-03, 2024-06), not {period!r}")
    streak = memory.get(name)
    if streak is None or (streak[2] != days[0].isoformat() and not same):
        streak = memory[name] = [period, 0, ""]
    streak[1] += 0 if same and streak[1] else 1
    streak[2] = days[1].isoformat()
    start = Period(streak[0]).days
    return start is not None and (days[1] - start[0]).days >= need.days


def _held(says: str, first: str, last: str, need: Span) -> str:
    return f"{says} (for {need}: {first} to {last})"
