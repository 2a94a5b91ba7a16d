"""Rule evaluation over 1,000 daily metrics x 20 years (about 7.3 million observations)
with derived metrics and 1,000 rules, timed in-process: `alerts.derived.derive(store,
metrics)` then `alerts.engine.evaluate(store, rules, now=)`, as after every crawl:
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
"""

import argparse
import math
import random
import shutil
import sys
import time
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import obsdb

from alerts.derived import derive
from alerts.engine import evaluate
from jobs.config import parse
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
    shutil.copyfile(pristine, database)
    config = load_config(metrics, derived, work)
    rules, derived_metrics = dict(config.rules), dict(config.metrics)
    last = date.fromisoformat(obsdb.days(20)[-1].isoformat())
    result: dict = {"incremental_s": [], "upsert_s": [], "events": []}
    with Store(database) as store:
        now = datetime(last.year, last.month, last.day, 12, tzinfo=UTC) + timedelta(days=1)
        started = time.perf_counter()
        derived_values = derive(store, derived_metrics).new
        result["derive_full_s"] = time.perf_counter() - started
        events = evaluate(store, rules, now=now)
        result["full_s"] = time.perf_counter() - started
        result["evaluate_full_s"] = result["full_s"] - result["derive_full_s"]
        result["full_events"] = len(events)
        result["historical_events"] = store.alerts.count_events(historical=True)
        result["derived_values"] = derived_values
        started = time.perf_counter()
        derive(store, derived_metrics)
        evaluate(store, rules, now=now)
        result["unchanged_s"] = time.perf_counter() - started
        for offset in range(1, days + 1):
            day = last + timedelta(days=offset)
            result["upsert_s"].append(next_day(store, metrics, day))
            started = time.perf_counter()
            derive(store, derived_metrics)
            events = evaluate(store, rules, now=now + timedelta(days=offset))
            result["incremental_s"].append(time.perf_counter() - started)
            result["events"].append(len(events))
    database.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, default=3, help="incremental evaluations per run")
    parser.add_argument("--derived", type=int, default=100, help="derived metrics (and rules)")
    parser.add_argument("--quick", action="store_true", help="100 metrics, 1 repetition")
    args = parser.parse_args()
    if args.quick:
        args.metrics, args.repeat, args.derived = 100, 1, 10
    pristine = obsdb.cached(harness.WORK, "rules", metrics=args.metrics, years=20, revised=0)
    work = harness.WORK / "rules"
    work.mkdir(parents=True, exist_ok=True)
    runs = []
    for rep in range(args.repeat):
        run = one_repetition(pristine, work, args.metrics, args.derived, args.days)
        print(
            f"  rep {rep + 1}: full {run['full_s']:.2f} s (derive {run['derive_full_s']:.2f} s, "
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
        "full_s": harness.median([run["full_s"] for run in runs]),
        "derive_full_s": harness.median([run["derive_full_s"] for run in runs]),
        "evaluate_full_s": harness.median([run["evaluate_full_s"] for run in runs]),
        "incremental_s": harness.median([s for run in runs for s in run["incremental_s"]]),
        "unchanged_s": harness.median([run["unchanged_s"] for run in runs]),
        "upsert_one_day_s": harness.median([s for run in runs for s in run["upsert_s"]]),
        "peak_rss_mb": harness.self_peak_rss_mb(),
    }
    path = harness.write_results(
        "rules" + "-quick" * args.quick, {"summary": summary, "runs": runs}
    )
    print(harness.table([[key, value] for key, value in summary.items()], ["measure", "value"]))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
