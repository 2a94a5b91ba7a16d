"""Judging on the second core (`alerts.parallel`): what a worker judged gives the same
events, states and cursors as judging in-process; a value a crawl commits after the
worker's snapshot, a worker that dies or a rule that fails there only sends those rules
back in-process."""

import logging
import random
import shutil
import subprocess
import sys
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from alerts import parallel
from alerts.engine import evaluate
from alerts.parallel import Ahead, judging
from jobs.config import parse
from series.derived import derive
from storage import Observation, Store

NOW = datetime(2026, 1, 2, 12, tzinfo=UTC)
METRICS = [f"m{i}" for i in range(6)]
DAY = [200.0, 60.0, 200.0, 10.0, 10.0, 10.0]  # a day's values: some rules fire


def history(path: Path) -> None:
    """Three years of daily values around 100 for each metric, noisy enough to cross
    the rules' levels again and again."""
    rng = random.Random(26)
    days = [date(2023, 1, 1) + timedelta(days=d) for d in range(3 * 365)]
    with Store(path) as store:
        store.observations.upsert(
            [Observation(metric, day.isoformat(), float(rng.randint(60, 140)))
             for day in days for metric in METRICS],
            snapshot_id=None,
        )  # fmt: skip


RULES = """
[metrics.pair]
expression = '"m0" + "m1"'

[rules.on_pair]
kind = "threshold"
metric = "pair"
above = 250

[rules.value]
kind = "threshold"
metric = "m0"
above = 130

[rules.mean]
kind = "threshold"
metric = "m1"
above = 104
resolve_below = 100
window = 7
aggregate = "mean"

[rules.streak]
kind = "threshold"
metric = "m2"
above = 115
for = 3
resolve_for = 2

[rules.pattern]
kind = "threshold"
metric = "m[345]"
below = 65
repeat_interval = "1d"
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "crossings.toml"
    path.write_text(RULES)
    return parse(tomllib.loads(RULES), path)


@pytest.fixture
def databases(tmp_path):
    """Two copies of one database: one judged with a worker, one without."""
    history(tmp_path / "one.db")
    shutil.copyfile(tmp_path / "one.db", tmp_path / "two.db")
    return tmp_path / "one.db", tmp_path / "two.db"


@pytest.fixture
def always(monkeypatch):
    """A worker for any evaluation, however little it has to judge."""
    monkeypatch.setattr(parallel, "WORTH", 0)


def decided(path: Path) -> list:
    """Every event (in the order written), state and cursor."""
    with Store(path, read_only=True) as store:
        conn = store.db.conn
        return [
            conn.execute(
                """SELECT id, rule, series, kind, at, period, summary, payload, key, silenced,
                          historical, inhibited_by FROM events ORDER BY id"""
            ).fetchall(),
            conn.execute("SELECT * FROM alert_state ORDER BY rule, series").fetchall(),
            conn.execute(
                """SELECT rule, fingerprint, observation_id, news_id, run_finished_at
                   FROM alert_cursors ORDER BY rule"""
            ).fetchall(),
        ]


def in_process(path: Path, config, now: datetime = NOW) -> None:
    with Store(path) as store:
        derive(store, config.metrics)
        evaluate(store, config.rules, now=now)


def with_worker(store: Store, config, now: datetime = NOW) -> Ahead:
    """Derive and evaluate as `jobs.aftermath` does: the worker judging meanwhile."""
    with judging(store, config.rules, now=now, skip=config.metrics) as ahead:
        derive(store, config.metrics)
        evaluate(store, config.rules, now=now, ahead=ahead)
    assert ahead is not None
    return ahead


def test_rules_judged_by_a_worker_decide_what_judged_in_process_do(databases, config, always):
    worked, plain = databases
    for now in (NOW, NOW + timedelta(days=1)):  # a first look, then a day's new values
        with Store(worked) as store:
            ahead = with_worker(store, config, now)
            # all but the rule on a derived metric were judged by the worker
            assert ahead.taken == ["value", "mean", "streak", "pattern"]
        in_process(plain, config, now)
        assert decided(worked) == decided(plain)
        day = (date(2026, 1, 1) + (now - NOW)).isoformat()
        for path in databases:
            with Store(path) as store:
                store.observations.upsert(
                    [Observation(m, day, v) for m, v in zip(METRICS, DAY, strict=True)],
                    snapshot_id=None,
                )
    assert any(not event[10] for event in decided(worked)[0])  # told, not only history


def test_a_value_committed_after_the_workers_snapshot_is_judged_in_process(
    databases, config, always
):
    worked, plain = databases
    late = Observation("m0", "2026-01-01", 500.0)  # fires `value`, which the worker misses
    with Store(worked) as store, Store(worked) as crawl:
        with judging(store, config.rules, now=NOW, skip=config.metrics) as ahead:
            assert ahead is not None
            ahead.snapshot()  # the worker judges from what was committed by now
            crawl.observations.upsert([late], snapshot_id=None)
            derive(store, config.metrics)
            events = evaluate(store, config.rules, now=NOW, ahead=ahead)
        assert ahead.taken == ["mean", "streak", "pattern"]
    with Store(plain) as store:
        store.observations.upsert([late], snapshot_id=None)
    in_process(plain, config)
    assert [(e.rule, e.kind, e.period) for e in events if e.rule == "value"] == [
        ("value", "firing", "2026-01-01")
    ]
    assert decided(worked) == decided(plain)


def test_a_worker_that_dies_loses_no_alert(databases, config, always, caplog):
    worked, plain = databases
    caplog.set_level(logging.WARNING, logger="alerts.parallel")
    with Store(worked) as store:
        with judging(store, config.rules, now=NOW, skip=config.metrics) as ahead:
            assert ahead is not None
            ahead.process.kill()
            derive(store, config.metrics)
            evaluate(store, config.rules, now=NOW, ahead=ahead)
        assert ahead.taken == []
    in_process(plain, config)
    assert decided(worked) == decided(plain)
    assert "the rule judging worker failed" in caplog.text


def test_a_small_evaluation_starts_no_worker(databases, config):
    worked, _ = databases
    in_process(worked, config)  # the first look: every rule has a cursor now
    with Store(worked) as store:
        store.observations.upsert([Observation("m0", "2026-01-01", 500.0)], snapshot_id=None)
        with judging(store, config.rules, now=NOW, skip=config.metrics) as ahead:
            assert ahead is None


def test_a_rule_failing_in_the_worker_fails_in_process_as_without_one(
    databases, config, always, caplog
):
    # calendar days of a streak cannot be counted on weekly periods: the rule fails
    text = RULES + '\n[rules.weekly]\nkind = "threshold"\nmetric = "w"\nabove = 10\n'
    text += 'for = "3d"\non_error = "alert"\n'
    failing = parse(tomllib.loads(text), config.path)
    for path in databases:
        with Store(path) as store:
            store.observations.upsert(
                [Observation("w", f"2025-W{week:02d}", 20.0) for week in range(1, 30)],
                snapshot_id=None,
            )
    worked, plain = databases
    caplog.set_level(logging.WARNING)
    with Store(worked) as store:
        ahead = with_worker(store, failing)
        assert ahead.taken == ["value", "mean", "streak", "pattern"]
    in_process(plain, failing)
    assert decided(worked) == decided(plain)
    assert "'weekly' could not be judged in the worker" in caplog.text
    with Store(worked, read_only=True) as store:
        assert store.alerts.event_kinds()["error"] == 1  # its on_error policy, once


def test_an_evaluation_with_no_worker_to_start_does_not_load_multiprocessing(databases, config):
    """Most evaluations (a crawl's aftermath, a day's values) start no worker, so they do
    without multiprocessing's import."""
    code = (
        "import sys; from datetime import datetime, UTC\n"
        "from jobs.aftermath import derive_and_evaluate; from jobs.config import load\n"
        "from storage import Store\n"
        f"config = load({str(config.path)!r})\n"
        f"with Store({str(databases[0])!r}) as store:\n"
        "    derive_and_evaluate(config, store, now=datetime(2026, 1, 2, 12, tzinfo=UTC))\n"
        "    judged = store.alerts.count_events(historical=True) > 0\n"
        "print(judged, 'multiprocessing' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["True", "False"]
