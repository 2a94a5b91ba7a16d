"""Revision detected: a published value changed — at all, or by more than X percent.
Official figures get revised; this says which, by how much, and from which snapshot."""

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field

from alerts.rule import Notice, Rule, StateOf
from alerts.view import View
from core.formatting import number
from storage import Cursor


@dataclass(frozen=True, kw_only=True)
class RevisionDetected(Rule, kind="revision"):
    """A published value was revised (by more than `min_percent`, or at all)."""

    metric: str = field(
        default="*", metadata={"help": "The metric name or a pattern such as 'trac.*'."}
    )
    min_percent: float = field(
        default=0.0, metadata={"help": "Only revisions larger than this percent; 0: any."}
    )

    def matches(self, metric: str) -> bool:
        return fnmatch.fnmatchcase(metric, self.metric)

    def reads(self) -> tuple[str, ...]:
        return (self.metric,)

    def observe(self, view: View, cursor: Cursor, state_of: StateOf) -> Iterator[Notice]:
        for metric in view.changed_metrics(self.metric, cursor.observation_id):
            for change in view.changes(metric, cursor.observation_id):
                old, new = change.old_value, change.value
                if old is None or old == new:
                    continue
                percent = 100 * (new - old) / abs(old) if old else None
                if percent is not None and abs(percent) <= self.min_percent:
                    continue
                shown = f" ({percent:+.1f}%)" if percent is not None else ""
                yield Notice(
                    series=metric,
                    key=f"observation-{change.id}",
                    period=change.period,
                    value=new,
                    says=f"{change.period} revised from {number(old)} to {number(new)}{shown}",
                    facts={
                        "previous_value": old,
                        "previous_period": change.period,
                        "previous_label": "revised from",  # the same period, as first published
                        "previously_seen": change.old_first_seen,
                        "change_percent": percent,
                        "min_percent": self.min_percent,
                    },
                    snapshot_id=change.snapshot_id,
                )
