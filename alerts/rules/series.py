"""Stateful rules over numeric series: how each replays the periods it has not seen yet,
with just the history its window needs — or, for a series met for the first time, the
whole stored history, read in one ordered sweep."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from alerts.rule import SeriesRule, StateOf, Step
from alerts.view import View
from storage import Cursor, Point


@dataclass(frozen=True, kw_only=True)
class ReplayedRule(SeriesRule):
    """A series rule judged period by period. Subclasses say how many earlier periods a
    judgement needs (`lookback`) and judge the new periods (`judge`)."""

    def lookback(self) -> int:
        return 0

    def judge(self, metric: str, points: Sequence[Point], start: int, view: View) -> Iterator[Step]:
        raise NotImplementedError

    def observe(self, view: View, cursor: Cursor, state_of: StateOf) -> Iterator[Step]:
        """Judge the periods after the last one evaluated, and that one again: a
        preliminary figure revised by the next crawl is judged on its new value (the
        engine replaces, not adds to, a period's earlier judgement). A series never
        evaluated is judged over its whole history (the engine records what happened
        there as history)."""
        for metric in view.changed_metrics(self.metric, cursor.observation_id):
            yield from self.replay(metric, state_of(metric).period, view)

    def replay(self, metric: str, last: str | None, view: View) -> Iterator[Step]:
        """The steps of the periods from `last` on (all periods if None)."""
        if last is None:
            yield from self.judge(metric, view.history(metric), 0, view)
            return
        points = view.tail(metric, last, self.lookback() + 1)
        start = next((i for i, point in enumerate(points) if point.period >= last), len(points))
        yield from self.judge(metric, points, start, view)
