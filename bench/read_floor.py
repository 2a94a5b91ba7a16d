"""The floor of a rule's first look at all history: what merely reading every current
value of every series costs in Python on this machine, before any rule judges anything.
Same database as `bench/rules.py` (generated there, or here when missing), one series at
a time as the engine reads them:

  - count:          SQLite alone walks the current rows (no row reaches Python)
  - period, value:  the two columns a threshold needs, as tuples
  - as rules read:  period, value, flags, snapshot id (`Observations.values`), as columns
  - as Points:      every column as a `Point` object (how rules read before issue 14)

    .venv/bin/python bench/read_floor.py --quick      # 100 series x 20 years
    .venv/bin/python bench/read_floor.py              # 1,000 series x 20 years
"""

import argparse
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import obsdb

from storage import Store

CURRENT = "FROM observations WHERE metric = ? AND superseded_at IS NULL ORDER BY period"


def timed(work: Callable[[], int]) -> tuple[float, float, int]:
    started, cpu = time.perf_counter(), time.process_time()
    rows = work()
    return time.perf_counter() - started, time.process_time() - cpu, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="100 series")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.quick:
        args.metrics = 100
    path = obsdb.cached(harness.WORK, "rules", metrics=args.metrics, years=20, revised=0)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    metrics = [row[0] for row in conn.execute("SELECT name FROM metrics ORDER BY name")]

    def query(columns: str) -> Callable[[], int]:
        return lambda: sum(
            len(conn.execute(f"SELECT {columns} {CURRENT}", [m]).fetchall()) for m in metrics
        )

    with Store(path, read_only=True) as store:
        ways = {
            "count (SQLite only)": lambda: sum(
                conn.execute(f"SELECT COUNT(*) {CURRENT}", [m]).fetchone()[0] for m in metrics
            ),
            "period, value": query("period, value"),
            "as rules read (4 columns)": lambda: sum(
                len(store.observations.values(m)) for m in metrics
            ),
            "as Points (before)": lambda: sum(len(store.observations.series(m)) for m in metrics),
        }
        found: dict[str, list[tuple[float, float, int]]] = {name: [] for name in ways}
        for _ in range(args.repeat):
            for name, work in ways.items():
                found[name].append(timed(work))
    rows = []
    for name, runs in found.items():
        wall = harness.median([run[0] for run in runs])
        cpu = harness.median([run[1] for run in runs])
        count = runs[0][2]
        rows.append([name, count, wall, cpu, cpu / count * 1e6 if count else 0])
    summary = {"series": len(metrics), "rows": rows, "load_average_1m": os.getloadavg()[0]}
    out = harness.write_results("read_floor" + "-quick" * args.quick, {"summary": summary})
    print(harness.table(rows, ["read", "rows", "wall s", "CPU s", "CPU us a row"]))
    print(f"\nload average {os.getloadavg()[0]:.1f}; wrote {out}")


if __name__ == "__main__":
    main()
