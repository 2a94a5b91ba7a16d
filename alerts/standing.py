"""Where a rule stands for one series, in the words the CLI and the web pages both show:
"7-day mean 3,019.1 (2024-06-20): firing since 2026-12-01 03:12 UTC; resolves below
3,000". What is measured and where the alert fires or resolves come from the rule's
drawing, so these words match the chart."""

from collections.abc import Callable

from alerts.rule import Rule
from core.formatting import number
from core.periods import Period
from series.drawing import Level
from storage import AlertState

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
