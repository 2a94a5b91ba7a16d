"""Stateful rules over numeric series: how each replays the periods it has not seen yet,
with just the history its window needs."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from alerts.rule import SeriesRule, StateOf, Step
from alerts.view import View
from storage import Cursor, Point

# A series met for the first time is replayed over this many recent periods (plus the
# rule's own window), so a long-held condition is recognised without reading 20 years.
WARMUP_PERIODS = 400


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
        engine replaces, not adds to, a period's earlier judgement)."""
        for metric in view.changed_metrics(self.metric, cursor.observation_id):
            last = state_of(metric).period
            before = self.lookback() + (WARMUP_PERIODS if last is None else 1)
            points = view.tail(metric, last, before)
            start = next(
                (i for i, point in enumerate(points) if last is None or point.period >= last),
                len(points),
            )
            yield from self.judge(metric, points, start, view)
