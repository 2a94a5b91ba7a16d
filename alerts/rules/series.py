"""Stateful rules over numeric series: how each replays the periods it has not seen yet,
with just the history its window needs — or, for a series met for the first time, the
whole stored history, read in one ordered sweep as columns (`storage.Values`)."""

from collections.abc import Iterator
from dataclasses import dataclass

from alerts.rule import Judged, SeriesRule, StateOf
from alerts.view import View
from storage import Cursor, Values


@dataclass(frozen=True, kw_only=True)
class ReplayedRule(SeriesRule):
    """A series rule judged period by period. Subclasses say how many earlier periods a
    judgement needs (`lookback`) and judge the periods from `start` on (`judge`), all at
    once: flat lists per period, a whole `Step` only where the state machine asks."""

    def lookback(self) -> int:
        return 0

    def judge(self, metric: str, series: Values, start: int, view: View) -> Judged:
        raise NotImplementedError

    def observe(self, view: View, cursor: Cursor, state_of: StateOf) -> Iterator[Judged]:
        """Judge the periods after the last one evaluated, and that one again: a
        preliminary figure revised by the next crawl is judged on its new value (the
        engine replaces, not adds to, a period's earlier judgement). A series never
        evaluated is judged over its whole history (the engine records what happened
        there as history)."""
        for metric in view.changed_metrics(self.metric, cursor.observation_id):
            yield self.replay(metric, state_of(metric).period, view)

    def replay(self, metric: str, last: str | None, view: View) -> Judged:
        """The judgements of the periods from `last` on (all periods if None)."""
        if last is None:
            return self.judge(metric, view.history(metric), 0, view)
        series = view.tail(metric, last, self.lookback() + 1)
        periods = series.periods
        start = next((i for i, period in enumerate(periods) if period >= last), len(periods))
        return self.judge(metric, series, start, view)
