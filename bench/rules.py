"""Rule evaluation over 1,000 daily metrics x 20 years (about 7.3 million observations)
with derived metrics and 1,000 rules, timed in-process: `series.derived.derive(store,
metrics)` then `alerts.engine.evaluate(store, rules, now=)`, as after every crawl (with
`alerts.parallel.judging` around them, as `jobs.aftermath.derive_and_evaluate` does):
  - full:        the first derivation and evaluation over a database never seen: every
                 derived metric computed over 20 years, every rule walking the whole
                 history of its series (past transitions recorded as historical events)
  - incremental: after a run adds one day to every series (one `observations.upsert` of
                 1,000 values), the derivation and evaluation that follow; several days
  - unchanged:   a derivation and evaluation when nothing was stored since the last one
Derived metrics (`--derived`, default 100): half a 7-calendar-day rolling mean of one
series, half the sum of two series. Rules (built from TOML through the config loader, as a
user writes them), 1,000 in all: one per derived metric, the rest one per stored metric:
  40% `threshold` on the value, 40% `threshold` on a 7-day mean with hysteresis,
  20% `threshold` that fires after 3 periods in a row and resolves after 7.

    .venv/bin/python bench/rules.py --repeat 3
    .venv/bin/python bench/rules.py --quick        # 100 metrics and rules, 1 repetition
    .venv/bin/python bench/rules.py --quick --against ../main   # A/B: this code vs another
                                                   # checkout's, alternating, same database
Wall and CPU seconds of this process and the judging worker (CPU: user + system, steadier
on a shared machine; `derive_full_cpu_s` is this process's alone); peak RSS of the tree;
`results` is a digest of every event, alert state and derived value written (times of
day left out), equal in an A/B run when both codes decide the same.
"""

import argparse
import contextlib
import hashlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import obsdb

from alerts.engine import evaluate

try:
    from alerts.parallel import judging
except ImportError:  # an older checkout's code (`--against`): every rule judged in-process
    judging = None
from jobs.config import parse
from series.derived import derive
from storage import Observation, Store


def derived_name(d: int) -> str:
    return f"derived-d{d:03d}"


def rules_toml(metrics: int, derived: int) -> str:
    """One rule per derived metric and one per stored metric up to `metrics` rules in
    all, levels near each series' seasonal peak so some fire; the derived metrics."""
    lines = []
    for d in range(derived):
        a, b = obsdb.metric_name(2 * d), obsdb.metric_name(2 * d + 1)
        base = random.Random(2 * d).uniform(500, 5000)
        if d % 2 == 0:
            expression, level = f'rolling("{a}", "7d", mean)', base * 1.2
        else:
            other = random.Random(2 * d + 1).uniform(500, 5000)
            expression, level = f'"{a}" + "{b}"', (base + other) * 1.2
        lines.append(f"[metrics.{derived_name(d)}]\nexpression = '{expression}'\n")
        lines.append(
            f'[rules.d{d:03d}]\nkind = "threshold"\n'
            f'metric = "{derived_name(d)}"\nabove = {round(level)}\n'
        )
    for m in range(metrics - derived):
        base = random.Random(m).uniform(500, 5000)  # the generator's first draw: the level
        name, metric = f"r{m:04d}", obsdb.metric_name(m)
        lines.append(f'[rules.{name}]\nkind = "threshold"\nmetric = "{metric}"')
        share = m % 10
        if share < 4:
            lines.append(f"above = {round(base * 1.25)}")
        elif share < 8:
            lines.append(f"above = {round(base * 1.2)}\nresolve_below = {round(base * 1.1)}")
            lines.append('window = 7\naggregate = "mean"')
        else:
            lines.append(f"above = {round(base * 1.15)}\nfor = 3\nresolve_for = 7")
        lines.append("")
    return "\n".join(lines)


def load_config(metrics: int, derived: int, directory: Path):
    path = directory / "rules.toml"
    path.write_text(rules_toml(metrics, derived))
    return parse(tomllib.loads(path.read_text()), path)


def next_day(store: Store, metrics: int, day: date) -> float:
    """What a daily crawl adds: one new value for every series. Returns seconds."""
    period = day.isoformat()
    values = [
        Observation(obsdb.metric_name(m), period, float(round(3000 + 1000 * math.sin(m))),
                    "encounters")
        for m in range(metrics)
    ]  # fmt: skip
    started = time.perf_counter()
    store.observations.upsert(values, snapshot_id=None)
    return time.perf_counter() - started


def one_repetition(pristine: Path, work: Path, metrics: int, derived: int, days: int) -> dict:
    database = work / "rules.db"
    for suffix in ("-wal", "-shm"):  # a log left by an interrupted run must not replay
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    settled_copy(pristine, database)
    config = load_config(metrics, derived, work)
    rules, derived_metrics = dict(config.rules), dict(config.metrics)
    last = date.fromisoformat(obsdb.days(20)[-1].isoformat())
    result: dict = {"incremental_s": [], "incremental_cpu_s": [], "upsert_s": [], "events": []}
    with Store(database) as store:
        now = datetime(last.year, last.month, last.day, 12, tzinfo=UTC) + timedelta(days=1)
        started, cpu = time.perf_counter(), cpu_s()
        with ahead_of(store, rules, now, derived_metrics) as ahead:
            derived_values = derive(store, derived_metrics).new
            result["derive_full_s"] = time.perf_counter() - started
            result["derive_full_cpu_s"] = cpu_s() - cpu  # this process's alone
            events = evaluate(store, rules, now=now, **ahead)
        result["full_s"] = time.perf_counter() - started
        result["full_cpu_s"] = cpu_s() - cpu  # the worker's included, once it has ended
        result["evaluate_full_s"] = result["full_s"] - result["derive_full_s"]
        result["evaluate_full_cpu_s"] = result["full_cpu_s"] - result["derive_full_cpu_s"]
        result["full_events"] = len(events)
        result["historical_events"] = store.alerts.count_events(historical=True)
        result["derived_values"] = derived_values
        result["results"] = results_digest(store)
        started, cpu = time.perf_counter(), cpu_s()
        derive_and_evaluate(store, derived_metrics, rules, now)
        result["unchanged_s"] = time.perf_counter() - started
        result["unchanged_cpu_s"] = cpu_s() - cpu
        for offset in range(1, days + 1):
            day = last + timedelta(days=offset)
            result["upsert_s"].append(next_day(store, metrics, day))
            started, cpu = time.perf_counter(), cpu_s()
            events = derive_and_evaluate(store, derived_metrics, rules,
                                         now + timedelta(days=offset))  # fmt: skip
            result["incremental_s"].append(time.perf_counter() - started)
            result["incremental_cpu_s"].append(cpu_s() - cpu)
            result["events"].append(len(events))
    database.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return result


def settled_copy(source: Path, target: Path) -> None:
    """Copy the pristine database and wait until the copy is on disk: otherwise the
    kernel writes its 2.9 GB back during the timed evaluation, on one of the two cores
    (a user's database is not freshly written when a crawl ends)."""
    shutil.copyfile(source, target)
    with target.open("rb") as copy:
        os.fsync(copy.fileno())


def cpu_s() -> float:
    """CPU seconds of this process and of its ended children (the judging worker)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def derive_and_evaluate(store: Store, derived_metrics: dict, rules: dict, now: datetime) -> list:
    """What `jobs.aftermath.derive_and_evaluate` does, from the bench's config parts."""
    with ahead_of(store, rules, now, derived_metrics) as ahead:
        derive(store, derived_metrics)
        return evaluate(store, rules, now=now, **ahead)


@contextlib.contextmanager
def ahead_of(store: Store, rules: dict, now: datetime, derived_metrics: dict):
    """`alerts.parallel.judging` as keywords for `evaluate`; none in older code."""
    if judging is None:
        yield {}
        return
    with judging(store, rules, now=now, skip=derived_metrics) as ahead:
        yield {"ahead": ahead}


def results_digest(store: Store) -> str:
    """What the full evaluation decided, as a digest: events in the order written,
    alert states, derived values and their inputs (first/last seen left out)."""
    digest = hashlib.sha256()
    for query in (
        """SELECT rule, series, kind, at, period, summary, payload, key, silenced, historical,
                  inhibited_by FROM events ORDER BY id""",
        """SELECT rule, series, state, since, value, period, last_notified_at, detail
           FROM alert_state ORDER BY rule, series""",
        """SELECT id, metric, period, value, unit, flags, snapshot_id, superseded_at IS NULL,
                  previous_id FROM observations WHERE snapshot_id IS NULL AND metric IN
                  (SELECT name FROM metrics WHERE description LIKE 'derived:%') ORDER BY id""",
        "SELECT observation_id, input_id FROM derived_inputs ORDER BY 1, 2",
    ):
        for row in store.db.conn.execute(query):
            digest.update(repr(row).encode())
    return digest.hexdigest()[:16]


def in_child(code: Path, args: argparse.Namespace, pristine: Path, work: Path) -> dict:
    """One repetition in a fresh process running the code of the checkout `code` (its
    alerts/ and storage/ first on the path): its figures and peak RSS."""
    command = [sys.executable, __file__, "--child", str(pristine), "--metrics", str(args.metrics),
               "--derived", str(args.derived), "--days", str(args.days)]  # fmt: skip
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(code.resolve()), "RULES_WORK": str(work)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(pristine: Path, args: argparse.Namespace) -> None:
    tree = harness.PeakSampler(os.getpid(), interval=0.1)  # the judging worker too
    run = one_repetition(pristine, Path(os.environ["RULES_WORK"]), args.metrics, args.derived,
                         args.days)  # fmt: skip
    peak = max(harness.self_peak_rss_mb(), tree.stop()[0] / 2**20)
    print(json.dumps({**run, "peak_rss_mb": peak}))


def compare(args: argparse.Namespace, pristine: Path) -> None:
    """This checkout's code against `args.against`'s, alternating which goes first."""
    here = Path(__file__).resolve().parent.parent
    codes = {"this": here, "against": args.against}
    runs: dict[str, list[dict]] = {name: [] for name in codes}
    for rep in range(args.repeat):
        for name in sorted(codes, reverse=rep % 2 == 1):
            run = in_child(codes[name], args, pristine, harness.WORK / "rules" / name)
            runs[name].append(run)
            print(
                f"  rep {rep + 1} {name}: full {run['full_s']:.2f} s "
                f"({run['full_cpu_s']:.2f} CPU s), results {run['results']}",
                flush=True,
            )
    keys = ["full_s", "full_cpu_s", "derive_full_s", "derive_full_cpu_s", "evaluate_full_s",
            "evaluate_full_cpu_s", "historical_events", "derived_values", "unchanged_s",
            "unchanged_cpu_s", "incremental_s", "incremental_cpu_s", "peak_rss_mb",
            "results"]  # fmt: skip
    rows = []
    for key in keys:
        this, other = (_median(runs[name], key) for name in ("this", "against"))
        ratio = other / this if isinstance(this, float) and this else ""
        rows.append([key, this, other, ratio])
    summary = {"this": str(here), "against": str(args.against), "rows": rows,
               "load_average_1m": os.getloadavg()[0]}  # fmt: skip
    path = harness.write_results("rules-ab" + "-quick" * args.quick, {"summary": summary,
                                 "runs": runs})  # fmt: skip
    print(harness.table(rows, ["measure", "this code", f"{args.against}", "against / this"]))
    print(f"\nload average {os.getloadavg()[0]:.1f}; wrote {path}")


def _median(runs: list[dict], key: str) -> object:
    values = [value for run in runs for value in (run[key] if isinstance(run[key], list)
              else [run[key]])]  # fmt: skip
    if isinstance(values[0], str):
        return "/".join(sorted(set(values)))
    return harness.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, default=3, help="incremental evaluations per run")
    parser.add_argument("--derived", type=int, default=100, help="derived metrics (and rules)")
    parser.add_argument("--quick", action="store_true", help="100 metrics, 1 repetition")
    parser.add_argument("--against", type=Path, help="A/B: a checkout whose code to compare")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args)
        return
    if args.quick:
        args.metrics, args.repeat, args.derived = 100, 1, 10
        args.repeat = 2 if args.against else 1
    pristine = obsdb.cached(harness.WORK, "rules", metrics=args.metrics, years=20, revised=0,
                            code=args.against)  # in a schema both codes open  # fmt: skip
    if args.against:
        compare(args, pristine)
        return
    work = harness.WORK / "rules"
    work.mkdir(parents=True, exist_ok=True)
    runs = []
    tree = harness.PeakSampler(os.getpid(), interval=0.1)  # the judging worker too
    for rep in range(args.repeat):
        run = one_repetition(pristine, work, args.metrics, args.derived, args.days)
        print(
            f"  rep {rep + 1}: full {run['full_s']:.2f} s, {run['full_cpu_s']:.2f} CPU s "
            f"(derive {run['derive_full_s']:.2f} s, "
            f"{run['derived_values']} derived values; {run['full_events']} events, "
            f"{run['historical_events']} historical), "
            f"unchanged {run['unchanged_s']:.3f} s, incremental "
            + ", ".join(f"{s:.3f}" for s in run["incremental_s"])
            + " s, upsert "
            + ", ".join(f"{s:.3f}" for s in run["upsert_s"])
            + " s",
            flush=True,
        )
        runs.append(run)
    summary = {
        "observations": obsdb.observations_in(pristine),
        "rules": args.metrics,
        "derived_metrics": args.derived,
        "derived_values": runs[0]["derived_values"],
        "full_events": runs[0]["full_events"],
        "historical_events": runs[0]["historical_events"],
        "full_s": harness.median([run["full_s"] for run in runs]),
        "full_cpu_s": harness.median([run["full_cpu_s"] for run in runs]),
        "derive_full_s": harness.median([run["derive_full_s"] for run in runs]),
        "derive_full_cpu_s": harness.median([run["derive_full_cpu_s"] for run in runs]),
        "evaluate_full_s": harness.median([run["evaluate_full_s"] for run in runs]),
        "evaluate_full_cpu_s": harness.median([run["evaluate_full_cpu_s"] for run in runs]),
        "incremental_s": harness.median([s for run in runs for s in run["incremental_s"]]),
        "incremental_cpu_s": harness.median([s for run in runs for s in run["incremental_cpu_s"]]),
        "unchanged_s": harness.median([run["unchanged_s"] for run in runs]),
        "unchanged_cpu_s": harness.median([run["unchanged_cpu_s"] for run in runs]),
        "upsert_one_day_s": harness.median([s for run in runs for s in run["upsert_s"]]),
        "peak_rss_mb": max(harness.self_peak_rss_mb(), tree.stop()[0] / 2**20),
        "results": runs[0]["results"],
    }
    path = harness.write_results(
        "rules" + "-quick" * args.quick, {"summary": summary, "runs": runs}
    )
    print(harness.table([[key, value] for key, value in summary.items()], ["measure", "value"]))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
