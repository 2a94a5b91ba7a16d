"""Where a rule stands for one series, in the words the CLI and the web pages both show:
"7-day mean 3,019.1 (2024-06-20): firing since 2026-12-01 03:12 UTC; resolves below
3,000". What is measured and where the alert fires or resolves come from the rule's
drawing, so these words match the chart. `rule_measures` says what the rules on a metric
compare now ('7-day mean 1,118'), for `crossings metrics` and the digest."""

from collections.abc import Callable, Iterable

from alerts.rule import Rule, drawings_for
from core.formatting import number
from core.periods import Period
from series.drawing import Level, metric_chart
from storage import AlertState, Store

STATE_WORDS = {"firing": "firing", "resolved": "resolved", "inactive": "not firing"}


def standing(rule: Rule, state: AlertState | None, when: Callable[[str], str]) -> str:
    """`when` turns a stored time into the reader's words (their timezone)."""
    if state is None:
        return "not evaluated yet"
    drawing = rule.drawing() if rule.watches(state.series) else None
    parts = []
    if state.value is not None and drawing is not None:
        measured = drawing.measured(Period(state.period or "").grain)
        of = f" ({state.period})" if state.period else ""
        parts.append(f"{measured} {number(state.value)}{of}:")
    words = STATE_WORDS.get(state.state, state.state)
    parts.append(f"{words} since {when(state.since)}" if state.state != "inactive" else words)
    text = " ".join(parts)
    if drawing is not None and drawing.levels:
        if state.state == "firing":
            levels = [lvl for lvl in drawing.levels if lvl.resolves] or [
                _resolves_at(lvl.key, lvl.value) for lvl in drawing.levels
            ]
        else:
            levels = [lvl for lvl in drawing.levels if not lvl.resolves]
        text += "; " + ", ".join(level.words for level in levels)
    return text


def _resolves_at(key: str, value: float) -> Level:
    """A rule without a separate resolve level resolves where it fires."""
    return Level("resolve_below" if key == "above" else "resolve_above", value, resolves=True)


def rule_measures(store: Store, rules: Iterable[Rule], metric: str) -> str:
    """What the rules on `metric` compare at its latest period, when that is not the value
    itself: '7-day mean 1,118' (several: joined by '; '), as `crossings series --rule`
    and the chart compute it; '' when no rule measures anything else."""
    drawings = [(name, drawing) for name, drawing in drawings_for(rules, metric)
                if drawing.window > 1]  # fmt: skip
    if not drawings:
        return ""
    longest = max(drawing.window for _, drawing in drawings)
    drawn = metric_chart(store, metric, drawings, last=longest)
    return "; ".join(f"{line.label} {number(line.values[-1])}" for line in drawn.measured
                     if line.values and line.values[-1] is not None)  # fmt: skip
