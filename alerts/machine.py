"""The state machine every stateful rule shares, used alike by the engine (step by step,
after each crawl) and by a backtest (over the whole history at once), so both find the
same days.

Per (rule, series): inactive -> firing -> resolved (-> firing ...). A condition must hold
`for` (periods in a row, or calendar days) before the alert fires, and the resolve
condition `resolve_for` before it resolves; with `lift_after` the alert stays firing that
many calendar days longer and then resolves, unless the fire condition comes back first.
Calendar streaks never stretch over a gap: a missing day starts them again. A period is a
whole span of days: a streak from 5 to 7 June has held 3 days once 7 June is judged."""

from dataclasses import dataclass
from datetime import date, timedelta

from alerts.periods import Span, span
from alerts.rule import StatefulRule, Step
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
    found: list[Transition] = []
    if step.missing:
        _forget(memory, "fire", "clear")
        lifted = _lift(state, step, rule, at)
        if lifted:
            return [lifted]
        if rule.no_data == "resolve" and state.state == "firing":
            found.append(_move(state, "resolved", step, at, f"no data: {step.says}"))
        elif rule.no_data == "alert" and not memory.get("missing_from"):
            found.append(Transition("nodata", step.period, step, f"no data: {step.says}"))
        memory["missing_from"] = memory.get("missing_from") or step.period
        return found
    memory.pop("missing_from", None)
    if state.state == "firing":
        _forget(memory, "fire")
        if step.fire:  # the condition is back: any countdown to lifting is cancelled
            _forget(memory, "clear", "lift")
            return found
        if same and memory.get("lift_met") == step.period and not step.clear:
            _forget(memory, "lift")  # the day that met the resolve condition was revised
        if lifted := _lift(state, step, rule, at):
            return [lifted]
        if memory.get("lift_at"):
            return found
        if not _streak(memory, "clear", step.clear, step.period, same, rule.resolve_for):
            return found
        says = step.says
        if rule.resolve_for.length > 1:
            says = _held(says, memory["clear_from"], step.period, rule.resolve_for)
        if rule.lift_after is None:
            found.append(_move(state, "resolved", step, at, says))
            return found
        met = span(step.period)
        if met is None:
            raise ValueError(f"lift_after needs dated periods; {step.series} has {step.period!r}")
        lift_at = met[1] - timedelta(days=1) + timedelta(days=rule.lift_after.days)
        memory.update(lift_at=lift_at.isoformat(), lift_says=says, lift_met=step.period)
        return found
    _forget(memory, "clear")
    if _streak(memory, "fire", step.fire, step.period, same, rule.for_):
        says = step.says
        if rule.for_.length > 1:
            says = _held(says, memory["fire_from"], step.period, rule.for_)
        found.append(_move(state, "firing", step, at, says))
    return found


def _lift(state: AlertState, step: Step, rule: StatefulRule, at: str) -> Transition | None:
    """Resolve on the day a pending lift falls due (judged at that day or a later one)."""
    memory = state.detail
    lift_at = memory.get("lift_at")
    if state.state != "firing" or not lift_at:
        return None
    now = span(step.period)
    if now is None or now[0] < date.fromisoformat(lift_at):
        return None
    says = (
        f"{memory['lift_says']}; lifted {rule.lift_after} after that was met on "
        f"{memory['lift_met']}"
    )
    return _move(state, "resolved", step, at, says, period=lift_at)


def _move(
    state: AlertState, kind: str, step: Step, at: str, says: str, *, period: str | None = None
) -> Transition:
    state.state, state.since = kind, at
    _forget(state.detail, "fire", "clear", "lift")
    return Transition(kind, period or step.period, step, says)


def _streak(memory: dict, name: str, holds: bool, period: str, same: bool, need: Span) -> bool:
    """Extend (or restart, or end) a streak with this period; True once it has held
    `need`. Calendar streaks restart after a gap between periods."""
    if not holds:
        _forget(memory, name)
        return False
    days = span(period)
    if need.calendar and days is None:
        raise ValueError(f"{need} needs dated periods (2024-06-03, 2024-06), not {period!r}")
    first, run = memory.get(f"{name}_from"), memory.get(f"{name}_run", 0)
    after_gap = need.calendar and days and memory.get(f"{name}_end") != days[0].isoformat()
    if first is None or (after_gap and not same):
        first, run = period, 1
    elif not same:
        run += 1
    memory[f"{name}_from"], memory[f"{name}_run"] = first, run
    if days:
        memory[f"{name}_end"] = days[1].isoformat()
    if not need.calendar:
        return run >= need.periods
    start = span(first)
    return start is not None and days is not None and (days[1] - start[0]).days >= need.days


def _held(says: str, first: str, last: str, need: Span) -> str:
    return f"{says} (for {need}: {first} to {last})"


def _forget(memory: dict, *names: str) -> None:
    for name in names:
        for suffix in ("_from", "_run", "_end", "_at", "_says", "_met"):
            memory.pop(f"{name}{suffix}", None)
