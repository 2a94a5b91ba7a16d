"""Large observation databases for the rule and query benchmarks, written straight into
storage's schema (the Store creates and migrates the file; rows go in with bulk inserts,
which the storage API would take hours to do one upsert at a time).

Each metric is a daily series from 2006-01-01 for `years` years: a seasonal level with
noise, so threshold and rolling-mean rules sometimes fire. With `revised` > 0, that share
of the periods also has an earlier vintage (first seen the day after the period, revised
30 days later), as official figures are.

    python bench/obsdb.py PATH --metrics 1000 --years 20 [--revised 0.37]
"""

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from core import clock
from storage import MetricEntry, Store
from storage.migrations import LATEST

START = date(2006, 1, 1)
BATCH = 200_000


def metric_name(index: int) -> str:
    return f"bench.m{index:04d}.daily"


def days(years: int) -> list[date]:
    end = START.replace(year=START.year + years)
    return [START + timedelta(days=n) for n in range((end - START).days)]


def seen_text(day: date, after_days: int) -> str:
    return clock.to_text(datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
                         + timedelta(days=after_days))  # fmt: skip


def level(rng: random.Random, base: float, n: int) -> float:
    return round(base * (1 + 0.3 * math.sin(2 * math.pi * n / 365.25)) * rng.uniform(0.8, 1.2))


def generate(path: Path, *, metrics: int, years: int, revised: float) -> dict:
    """Create the database at `path` (replacing it); return what was written."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    periods = days(years)
    labels = [day.isoformat() for day in periods]
    first_seen = [seen_text(day, 1) for day in periods]
    revised_at = [seen_text(day, 31) for day in periods]
    revise_every = round(1 / revised) if revised else 0
    with Store(path) as store:
        store.catalog.describe_metrics(
            MetricEntry(metric_name(m), label=f"Synthetic daily series {m}", unit="encounters",
                        source="bench") for m in range(metrics)
        )  # fmt: skip
        conn = store.db.conn
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -262144")  # 256 MB while loading
        sql = """INSERT INTO observations (id, metric, period, value, unit, flags, snapshot_id,
                     first_seen, last_seen, superseded_at, previous_id)
                 VALUES (?, ?, ?, ?, 'encounters', '', NULL, ?, ?, ?, ?)"""
        rngs = [random.Random(m) for m in range(metrics)]
        bases = [rng.uniform(500, 5000) for rng in rngs]
        names = [metric_name(m) for m in range(metrics)]
        rows, next_id, total = [], 1, 0
        pending: dict[int, list] = {}  # day index -> revisions to insert that day
        for n, period in enumerate(labels):
            # Day by day across all metrics, as daily crawls write them (rows of one
            # metric are spread over the file, not clustered).
            for m, rng in enumerate(rngs):
                value = level(rng, bases[m], n)
                if revise_every and n % revise_every == 0:
                    old = round(value * rng.uniform(0.9, 1.1))
                    rows.append((next_id, names[m], period, old, first_seen[n], revised_at[n],
                                 revised_at[n], None))  # fmt: skip
                    pending.setdefault(n + 30, []).append((names[m], n, value, next_id))
                else:
                    rows.append((next_id, names[m], period, value, first_seen[n], first_seen[n],
                                 None, None))  # fmt: skip
                next_id += 1
            for name, day, value, previous in pending.pop(n, ()):
                at = revised_at[day]
                rows.append((next_id, name, labels[day], value, at, at, None, previous))
                next_id += 1
            if len(rows) >= BATCH:
                total += _flush(store, sql, rows)
        for late in pending.values():  # revisions due after the last day
            for name, day, value, previous in late:
                at = revised_at[day]
                rows.append((next_id, name, labels[day], value, at, at, None, previous))
                next_id += 1
        total += _flush(store, sql, rows)
        conn.execute("ANALYZE")
    return {
        "path": str(path),
        "metrics": metrics,
        "years": years,
        "periods_per_metric": len(periods),
        "observations": total,
        "last_period": labels[-1],
        "seconds": time.perf_counter() - started,
        "bytes": path.stat().st_size,
    }


def cached(
    directory: Path, name: str, *, metrics: int, years: int, revised: float,
    code: Path | None = None,
) -> Path:  # fmt: skip
    """A generated database, reused while its parameters and the schema are the same.
    `code`: written by another checkout's storage, in its schema (an A/B against an
    older checkout: a newer code migrates the copy it opens, an older one could not)."""
    schema = LATEST if code is None else _latest(code)
    path = directory / f"{name}-{metrics}x{years}y-r{revised:g}-schema{schema}.db"
    marker = Path(f"{path}.done")
    if path.exists() and marker.exists():
        return path
    print(f"generating {path.name} (about a minute per million rows)...", flush=True)
    if code is None or schema == LATEST:
        info = generate(path, metrics=metrics, years=years, revised=revised)
    else:
        command = [sys.executable, __file__, str(path), "--metrics", str(metrics), "--years",
                   str(years), "--revised", str(revised), "--json"]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(code.resolve())}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        info = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {info['observations']:,} observations in {info['seconds']:.0f} s", flush=True)
    marker.write_text(str(info["observations"]))
    return path


def observations_in(path: Path) -> int:
    return int(Path(f"{path}.done").read_text())


def _flush(store: Store, sql: str, rows: list) -> int:
    count = len(rows)
    with store.transaction():
        store.db.conn.executemany(sql, rows)
    rows.clear()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--metrics", type=int, default=1000)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--revised", type=float, default=0.0)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    info = generate(args.path, metrics=args.metrics, years=args.years, revised=args.revised)
    print(json.dumps(info) if args.json else info)


def _latest(code: Path) -> int:
    """The newest schema version the storage of checkout `code` knows."""
    command = [sys.executable, "-c", "from storage.migrations import LATEST; print(LATEST)"]
    env = {**os.environ, "PYTHONPATH": str(code.resolve())}
    return int(
        subprocess.run(
            command, env=env, capture_output=True, text=True, check=True, cwd=code
        ).stdout
    )  # fmt: skip  (cwd: `-c` puts it first on the path)


if __name__ == "__main__":
    sys.exit(main())
