"""Judging rules on the second core. A first look at twenty years (a new database, new
rules) reads and judges millions of values; most of it can run in a worker process while
this one derives the metrics the other rules watch. The worker reads through its own
read-only connection (WAL: from one snapshot, while this process writes) and judges the
series rules that read no derived metric, exactly as `alerts.run.RuleRun` does here, but
keeps what it would write: batches of historical events, events to tell, the states as
moved. The evaluation writes them in rule order, in its one transaction — unless the
worker saw other data than the evaluation does (a crawl committed in between, another
evaluation moved a cursor, a silence began), failed on a rule or died: then that rule is
judged in-process, as if there were no worker. A small evaluation (a day's values) never
starts one: spawning costs more than it saves."""

import fnmatch
import logging
import os
import pickle
import queue
import threading
import traceback
import zlib
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from alerts.rule import Rule
from alerts.rules.series import ReplayedRule
from alerts.run import Alert, Judgement, Lookups, RuleRun, evaluation_order
from alerts.view import View
from core import clock
from core.collector import cyclic_gc_paused
from storage import Cursor, StorageError, Store, checkpoint, encode_historical_events

if TYPE_CHECKING:  # multiprocessing is imported when a worker is started: most evaluations
    from multiprocessing.process import BaseProcess  # are small and start none
    from multiprocessing.queues import Queue

log = logging.getLogger(__name__)

# Observation ids stored since the oldest cursor of the rules a worker would judge: below
# this, judging stays in-process. A worker costs ~0.4 CPU s to spawn and import, and its
# judgements ~10% more to hand over: at 219,000 values (a day's crawl is a thousand) it
# cost more than it saved, at 7.3 million it saves (bench/README.md, "round five").
WORTH = 1_000_000
ALIVE_EVERY = 1.0  # seconds between two looks whether a silent worker still lives


@dataclass(frozen=True)
class _Asked:
    """What the worker judged a rule from: its judgement is used only if the evaluation
    starts from the same."""

    cursor: Cursor
    silenced: bool


class Ahead:
    """The worker's judgements as the evaluation takes them, rule by rule, in order."""

    def __init__(self, process: "BaseProcess", results: "Queue", asked: dict[str, _Asked]) -> None:
        self.process, self.results, self.asked = process, results, asked
        self.seen: int | None = None  # the newest observation id in the worker's snapshot
        self.lost = False
        self.taken: list[str] = []  # the rules whose judgement was used, in order

    def take(self, name: str, cursor: Cursor, silenced: bool, view: View) -> Judgement | None:
        """The worker's judgement of rule `name`, if it judged it from what the evaluation
        sees (`cursor`, `silenced`, no value stored since its snapshot for a metric the
        rule reads); None: judge it in-process."""
        asked = self.asked.pop(name, None)
        if asked is None or self.lost:
            return None
        try:
            found = self._next(name)
        except _Lost as lost:
            log.warning("the rule judging worker failed (%s); rules are judged in-process", lost)
            self.lost = True
            return None
        if isinstance(found, str):
            log.warning("rule %r could not be judged in the worker (%s); judged in-process",
                        name, found)  # fmt: skip
            return None
        seen = self.snapshot()
        if asked != _Asked(cursor, silenced) or any(
            view.changed_metrics(pattern, seen) for pattern in view.reads.get(name, ())
        ):
            return None
        try:
            judged = pickle.loads(zlib.decompress(found))  # noqa: S301 - our own worker's
        except Exception as error:
            log.warning("rule %r: the worker's judgement cannot be read (%s); judged in-process",
                        name, error)  # fmt: skip
            return None
        self.taken.append(name)
        return judged

    def snapshot(self) -> int:
        """The newest observation id in the worker's snapshot (waits for it to be taken)."""
        if self.seen is None:
            self._next(_SEEN)
        assert self.seen is not None
        return self.seen

    def _next(self, name: str) -> bytes | str:
        """The worker's next message, which must be about `name`."""
        while True:
            try:
                about, what = self.results.get(timeout=ALIVE_EVERY)
            except queue.Empty:
                if not self.process.is_alive():
                    raise _Lost(f"it exited with status {self.process.exitcode}") from None
                continue
            if about == _SEEN:
                self.seen = what
                if name == _SEEN:
                    return what
            elif about == _FAILED:
                raise _Lost(what)
            elif about == name:
                return what
            else:
                raise _Lost(f"it judged {about!r} where {name!r} was expected")

    def close(self) -> None:
        """Stop the worker if it still runs (the evaluation failed, or took less)."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.results.close()


class _Lost(Exception):
    """The worker can give no more judgements."""


_SEEN, _FAILED = "", "!"  # messages other than a rule's judgement (rule names are never so)


@contextmanager
def judging(
    store: Store,
    rules: Mapping[str, Rule],
    *,
    now: datetime,
    past: bool = False,
    skip: Collection[str] = (),
) -> Iterator[Ahead | None]:
    """Start judging ahead, in a worker, the series rules reading none of the metrics
    `skip` (derived metrics, about to be recomputed) — if there is much to judge. Give the
    `Ahead` to `alerts.engine.evaluate` with the same `now` and `past`."""
    asked = _asked(store, rules, now, skip)
    if not asked:
        yield None
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # a fresh process: no SQLite state forked
    results = context.Queue()
    process = context.Process(
        target=_work,
        args=(store.path, {name: rules[name] for name in asked}, asked, now, past, results),
        name="crossings rule judging",
        daemon=True,
    )
    if not _started(process):
        results.close()
        yield None
        return
    ahead = Ahead(process, results, asked)
    try:
        yield ahead
    finally:
        ahead.close()


def _started(process: "BaseProcess") -> bool:
    try:
        process.start()
    except Exception as error:  # no process to be had (limits, a daemonic parent): judge here
        log.warning("no worker to judge rules in (%s: %s); they are judged in-process",
                    type(error).__name__, error)  # fmt: skip
        return False
    return True


def _asked(
    store: Store, rules: Mapping[str, Rule], now: datetime, skip: Collection[str]
) -> dict[str, _Asked]:
    """The rules to judge ahead, in evaluation order, with what they are judged from —
    none if there is too little to judge (found in two queries: cheap)."""
    cursors = store.alerts.cursors()
    replayed = [(name, rule) for name, rule in evaluation_order(rules)
                if isinstance(rule, ReplayedRule)]  # fmt: skip
    oldest = min((c.observation_id if (c := cursors.get(n)) else 0 for n, _ in replayed),
                 default=None)  # fmt: skip
    if oldest is None or store.alerts.high_water()[0] - oldest < WORTH:
        return {}
    silences = [s.rule for s in store.alerts.silences(active_at=clock.to_text(now))]
    asked = {}
    for name, rule in replayed:
        fingerprint = rule.fingerprint()
        cursor = cursors.get(name) or Cursor(name, fingerprint)
        # an edited rule is forgotten first (judged here), a rule on a derived metric waits
        if cursor.fingerprint == fingerprint and not _reads_any(rule, skip):
            silenced = any(fnmatch.fnmatchcase(name, pattern) for pattern in silences)
            asked[name] = _Asked(cursor, silenced)
    return asked


def _reads_any(rule: Rule, metrics: Collection[str]) -> bool:
    return any(pattern in metrics or fnmatch.filter(metrics, pattern) for pattern in rule.reads())


class _Judging(RuleRun):
    """A rule's run in the worker: what it would write is kept, in order, for the
    evaluation to write."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.found: list[list[tuple] | Alert] = []

    def _write_history(self) -> None:
        if self.history_rows:
            self.found.append(encode_historical_events(self.history_rows))
            self.history_rows.clear()

    def _tell(self, alert: Alert) -> None:
        facts = alert.facts if isinstance(alert.facts, dict) else alert.facts()
        self.found.append(replace(alert, facts=facts))


def _work(
    path: Path,
    rules: dict[str, Rule],
    asked: dict[str, _Asked],
    now: datetime,
    past: bool,
    results: "Queue",
) -> None:
    """The worker: judge `rules` in order from one snapshot; put the snapshot's newest
    observation id, then each rule's judgement (compressed: a first look at twenty years
    finds 600,000 historical events, held here until the evaluation takes them) or why
    it could not be judged."""
    at = clock.to_text(now)
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is not None:  # an orphan would hold its snapshot (and the WAL) for nothing
        threading.Thread(target=_end_with, args=(parent,), daemon=True).start()
    try:
        with cyclic_gc_paused(), Store(path, read_only=True) as store, store.reading():
            results.put((_SEEN, store.alerts.high_water()[0]))
            view = View(store, now=now, since_news=0, since_run="")
            lookups = Lookups(store)
            for name, rule in rules.items():
                run = _Judging(store, rule, lookups, at=at, silenced=asked[name].silenced,
                               broken=set())  # fmt: skip
                run.past = past
                try:
                    run.observe(view, asked[name].cursor)
                    judged = Judgement(run.found, run.states)
                    results.put((name, zlib.compress(pickle.dumps(judged, protocol=5), 1)))
                except Exception as error:
                    results.put((name, f"{type(error).__name__}: {error}"))
    except BaseException:
        results.put((_FAILED, traceback.format_exc(limit=3).strip().splitlines()[-1]))
        raise
    # While its snapshot was open, no commit could checkpoint what was written after it
    # (a first derivation: ~240 MB); done here, on this core, it is not left for the
    # evaluation's own commit to do (~1 s less on the parent's path, bench/README.md).
    try:
        checkpoint(path)
    except StorageError as error:
        log.warning("the rule judging worker could not checkpoint the WAL: %s", error)


def _end_with(parent: "BaseProcess") -> None:
    parent.join()
    os._exit(1)
