"""Derived metrics: series computed from stored ones (`[metrics.NAME]` in the config) —
a per-day average of a monthly total, a sum of components, a ratio, a 7-day mean. After
each crawl, before rules are evaluated, every derived metric whose inputs changed is
recomputed from the earliest changed period on and stored as observations with their own
vintages (a changed result is a revision) and the input observations behind each value.
Rules, charts and queries then use them like any metric."""

import fnmatch
import hashlib
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from core.collector import cyclic_gc_paused
from core.periods import Period
from series.expression import (
    ExpressionError,
    Node,
    Series,
    compute,
    lookback_days,
    parse,
    references,
    unit,
)
from storage import MetricEntry, Store
from storage.derived import DerivedCursor
from storage.errors import StorageError

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DerivedMetric:
    """A series computed from stored series by a small expression language."""

    name: str = field(metadata={"toml": False})
    expression: str = field(
        metadata={
            "help": "What to compute, e.g. 'per_day(\"cbp.swb.usbp.encounters\")', "
            '\'sum("cbp.swb.*")\', \'rolling("m", "7d", mean)\', \'"a" / "b"\'.'
        }
    )
    unit: str = field(
        default="", metadata={"help": "Unit of the result; checked against the expression's."}
    )
    label: str = field(default="", metadata={"help": "A readable name for charts and alerts."})

    def problems(self) -> list[str]:
        try:
            tree = self.tree
        except ExpressionError as error:
            return [f"expression: {error}"]
        if any(fnmatch.fnmatchcase(self.name, ref) for ref in references(tree)):
            return [f"expression reads {self.name!r} itself"]
        return []

    @property
    def tree(self) -> Node:
        return _parsed(self.expression)

    def reads(self) -> set[str]:
        return references(self.tree)

    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.expression}|{self.unit}".encode()).hexdigest()[:16]


@cache
def _parsed(text: str) -> Node:
    return parse(text)


def order(metrics: Mapping[str, DerivedMetric]) -> list[str]:
    """Derived metrics in an order where each comes after those it reads; ValueError
    naming the cycle when there is none."""
    done: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = [*visiting[visiting.index(name) :], name]
            raise ValueError(f"derived metrics read each other in a cycle: {' -> '.join(cycle)}")
        visiting.append(name)
        for ref in sorted(metrics[name].reads()):
            for other in sorted(metrics):
                if other != name and fnmatch.fnmatchcase(other, ref):
                    visit(other)
        visiting.pop()
        done.append(name)

    for name in sorted(metrics):
        visit(name)
    return done


def unit_problems(
    metrics: Mapping[str, DerivedMetric], units_of: Callable[[str], Iterable[str]]
) -> dict[str, str]:
    """Per derived metric, a unit mismatch in its expression or against its `unit`.
    `units_of(pattern)` gives the units of the stored or declared series it names."""
    found: dict[str, str] = {}
    known: dict[str, str | None] = {}

    def units(pattern: str) -> set[str]:
        result = set(units_of(pattern))
        for name in metrics:
            if fnmatch.fnmatchcase(name, pattern) and known.get(name) is not None:
                result.add(known[name] or "")
        return result

    try:
        names = order(metrics)
    except ValueError:
        return found
    for name in names:
        metric = metrics[name]
        try:
            given = unit(metric.tree, units)
        except ExpressionError as error:
            found[name] = str(error)
            continue
        if metric.unit and given is not None and metric.unit != given:
            found[name] = (
                f"unit mismatch: the expression gives {given or 'plain numbers'!r} but unit "
                f"= {metric.unit!r} (write unit = {given!r}, or leave it out)"
            )
        known[name] = metric.unit or given
    return found


@dataclass
class DeriveReport:
    new: int = 0
    revised: int = 0
    errors: list[str] = field(default_factory=list)


def derive(store: Store, metrics: Mapping[str, DerivedMetric]) -> DeriveReport:
    """Recompute every derived metric whose inputs changed since it last looked (all of
    it the first time, or when its expression changed). One failing metric is reported
    and the others go on."""
    report = DeriveReport()
    if not metrics:
        return report
    names = _names(store)
    done = []
    # One transaction (no crawl writes meanwhile), a savepoint per metric: at the end
    # every metric has read all there is, its own and later metrics' rows included (a
    # metric never reads one that comes after it in `order`).
    with cyclic_gc_paused(), store.transaction():
        for name in order(metrics):
            metric = metrics[name]
            try:
                with store.transaction():
                    new, revised = _derive_one(store, metric, names)
            except StorageError:
                raise
            except Exception as error:  # an overflow, a bad period: this metric alone fails
                problem = f"derived metric {name!r} could not be computed: {_said(error)}"
                log.error("%s", problem)
                report.errors.append(problem)
                continue
            done.append(metric)
            report.new += new
            report.revised += revised
        newest = store.derived.newest_id()
        for metric in done:
            store.derived.save_cursor(DerivedCursor(metric.name, metric.fingerprint(), newest))
    return report


def _said(error: Exception) -> str:
    if isinstance(error, ExpressionError | ValueError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _names(store: Store) -> Callable[[str], list[str]]:
    stored: list[str] | None = None

    def names(pattern: str) -> list[str]:
        nonlocal stored
        if stored is None:
            stored = store.queries.metric_names()
        return [name for name in stored if fnmatch.fnmatchcase(name, pattern)]

    return names


def _derive_one(
    store: Store, metric: DerivedMetric, names: Callable[[str], list[str]]
) -> tuple[int, int]:
    cursor = store.derived.cursor(metric.name)
    newest = store.derived.newest_id()
    fingerprint = metric.fingerprint()
    since: str | None = None
    if cursor is not None and cursor.fingerprint == fingerprint:
        if cursor.observation_id >= newest:
            return 0, 0
        changed = store.derived.earliest_changes(cursor.observation_id)
        reads = metric.reads()
        starts = [
            period
            for input_name, period in changed.items()
            if input_name != metric.name
            and any(fnmatch.fnmatchcase(input_name, ref) for ref in reads)
        ]
        if not starts:
            return 0, 0
        since = min(starts)
    read_from = _read_from(since, lookback_days(metric.tree))
    series = compute(
        metric.tree,
        lambda name: store.observations.values(name, since=read_from, provenance=True),
        names,
    )
    series = _finite(metric, series)
    inputs_unit = _stored_unit(store, metric, names)
    result = store.derived.write(metric.name, series, unit=metric.unit or inputs_unit, since=since)
    store.catalog.describe_metrics([_entry(metric, inputs_unit)])
    return result


def _finite(metric: DerivedMetric, series: Series) -> Series:
    """The values that are numbers: an infinite or undefined result (an overflow, 0 * inf)
    leaves its period out, said once for the metric."""
    left_out = [period for period, value in series.items() if not math.isfinite(value.value)]
    if not left_out:
        return series
    log.warning(
        "derived metric %r: %d period(s) left out, the result is not a finite number (%s)",
        metric.name, len(left_out), ", ".join(left_out[:5]) + ("..." if len(left_out) > 5 else ""),
    )  # fmt: skip
    return {period: value for period, value in series.items() if math.isfinite(value.value)}


def _read_from(since: str | None, lookback: int | None) -> str | None:
    """The first period the inputs must be read from to recompute from `since`."""
    if since is None or lookback is None:
        return None
    if lookback == 0:
        return since
    if not Period(since).is_day:
        return None
    return (date.fromisoformat(since) - timedelta(days=lookback)).isoformat()


def _stored_unit(store: Store, metric: DerivedMetric, names: Callable[[str], list[str]]) -> str:
    """The unit the expression gives, from the units of the stored inputs ('' if mixed
    or unknown: `crossings check` reports mismatches). `names`: the stored metrics a
    pattern matches, listed once per derivation (not once per derived metric)."""

    def units_of(pattern: str) -> set[str]:
        found = set()
        for name in names(pattern):
            entry = store.catalog.metric(name)
            if entry and entry.unit:
                found.add(entry.unit)
        return found

    try:
        return unit(metric.tree, units_of) or ""
    except ExpressionError:
        return ""


def _entry(metric: DerivedMetric, unit_text: str) -> MetricEntry:
    return MetricEntry(
        name=metric.name,
        label=metric.label,
        unit=metric.unit or unit_text,
        source="",
        description=f"derived: {metric.expression}",
    )
