"""What rules see during one evaluation: the changes since the lowest cursor (read once for
all rules) and cached narrow reads of series, so a thousand rules over the same metrics
cost a handful of indexed queries each."""

import fnmatch
from collections.abc import Mapping
from datetime import datetime
from functools import cache, cached_property

from storage import NewsItem, Point, Run, Store, Values, Vintage


class View:
    """`reads` gives, per configured rule, the metrics it reads (`Rule.reads`): what a
    source's breakage holds back. (Names and patterns, not the rules: a view knows no
    rule, so rules and views do not import each other.)"""

    def __init__(self, store: Store, *, now: datetime, since_news: int, since_run: str,
                 reads: Mapping[str, tuple[str, ...]] | None = None) -> None:  # fmt: skip
        self.store = store
        self.now = now
        self.reads = reads or {}
        self._since = (since_news, since_run)
        self.tail = cache(self._tail)
        self.latest_arrival = cache(store.observations.latest_arrival)

    @cache  # noqa: B019 - one View lives for one evaluation
    def _changed(self, after_id: int) -> set[str]:
        """Metrics with values stored after `after_id`: read once per cursor position
        (rules evaluated together share theirs), from the start as a list of names."""
        return self.store.observations.changed_metrics(after_id)

    @cached_property
    def _news(self) -> list[NewsItem]:
        return self.store.news.after(self._since[0])

    @cached_property
    def _runs(self) -> list[Run]:
        return self.store.runs.finished_after(self._since[1])

    def changed_metrics(self, pattern: str, after_id: int) -> list[str]:
        """Metrics matching `pattern` with a value stored after observation `after_id`."""
        return self._matching(pattern, after_id)

    @cache  # noqa: B019 - one View lives for one evaluation
    def _matching(self, pattern: str, after_id: int) -> list[str]:
        """Changed metrics that a name or pattern selects; a plain name is a lookup."""
        changed = self._changed(after_id)
        if not any(char in pattern for char in "*?["):
            return [pattern] if pattern in changed else []
        return sorted(metric for metric in changed if fnmatch.fnmatchcase(metric, pattern))

    def _tail(self, metric: str, after: str | None, before: int) -> Values:
        return self.store.observations.tail(metric, after=after, before=before)

    def history(self, metric: str) -> Values:
        """Every current value of a metric, oldest first: read afresh, not cached (a
        thousand long series must not pile up in memory)."""
        return self.store.observations.values(metric)

    def points_at(self, metric: str, periods: list[str]) -> dict[str, Point]:
        return self.store.observations.points_at(metric, periods)

    def changes(self, metric: str, after_id: int) -> list[Vintage]:
        return self.store.observations.changes(metric, after_id)

    def news(self, after_id: int) -> list[NewsItem]:
        return [item for item in self._news if (item.id or 0) > after_id]

    def runs(self, after: str) -> list[Run]:
        return [run for run in self._runs if (run.finished_at or "") > after]

    def rules_on_source(self, source: str) -> list[str]:
        """The configured rules watching a metric that this source publishes: what its
        breakage holds back."""
        metrics = self.store.catalog.metrics_of_source(source)
        return [
            name
            for name, patterns in self.reads.items()
            if any(
                fnmatch.fnmatchcase(metric, pattern) for pattern in patterns for metric in metrics
            )
        ]

    def recent_runs(self, source: str, limit: int) -> list[Run]:
        return self.store.runs.recent(source, limit)
