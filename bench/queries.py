"""Query latency on a database of about 10 million observations with revisions (1,000 daily
metrics over 20 years, a third of the periods revised once):
  - library: `Store(read_only=True).observations.series(metric)` and `series(as_of=...)`,
    and `store.queries.series_with_revisions` / `metric_summaries` (what the CLI and web
    pages call), timed in-process after one warm-up call;
  - command line: `crossings series METRIC`, `series METRIC --as-of DATE` and `crossings
    metrics`, timed as whole processes (interpreter start-up included).

    .venv/bin/python bench/queries.py --repeat 3
    .venv/bin/python bench/queries.py --quick      # 100 metrics (about 1 million rows)
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import obsdb

from storage import Store

AS_OF = "2016-06-01T00:00:00.000000Z"


def database(metrics: int) -> tuple[Path, dict]:
    """About 10 million observations for 1,000 metrics: a third of the periods revised."""
    path = obsdb.cached(harness.WORK, "queries", metrics=metrics, years=20, revised=0.37)
    return path, {"path": path.name, "observations": obsdb.observations_in(path)}


def library_latency(path: Path, metric: str, repeat: int) -> dict:
    results = {}
    with Store(path, read_only=True) as store:
        started = time.perf_counter()
        first = store.observations.series(metric)
        results["series_cold_ms"] = (time.perf_counter() - started) * 1000
        for name, call in (
            ("series", lambda: store.observations.series(metric)),
            ("series_as_of", lambda: store.observations.series(metric, as_of=AS_OF)),
            ("series_last_year", lambda: store.observations.series(metric, since="2025-01-01")),
            # what `crossings series` and the web pages call
            ("series_with_revisions", lambda: store.queries.series_with_revisions(metric)),
            (
                "series_with_revisions_as_of",
                lambda: store.queries.series_with_revisions(metric, as_of=AS_OF),
            ),
            (
                "series_with_revisions_last_year",
                lambda: store.queries.series_with_revisions(metric, since="2025-01-01"),
            ),
        ):
            call()
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                points = call()
                times.append((time.perf_counter() - started) * 1000)
            results[f"{name}_ms"] = harness.median(times)
            results[f"{name}_points"] = len(points)
        results["series_points_current"] = len(first)
        started = time.perf_counter()
        summaries = store.queries.metric_summaries()
        results["metric_summaries_ms"] = (time.perf_counter() - started) * 1000
        results["metric_summaries_rows"] = len(summaries)
    return results


def cli_config(path: Path) -> Path:
    config = harness.WORK / "queries.toml"
    config.write_text(f'[settings]\ndatabase = "{path}"\n')
    return config


def cli_latency(config: Path, metric: str, repeat: int) -> dict:
    """Each command as a user runs it; skipped if this crossings does not have it yet."""
    commands = {
        "cli_series": ["series", metric],
        "cli_series_as_of": ["series", metric, "--as-of", AS_OF[:10]],
        "cli_series_last_year": ["series", metric, "--since", "2025-01-01"],
        "cli_metrics": ["metrics"],
    }
    results = {}
    base = [*harness.crossings_command(), "--config", str(config)]
    help_run = subprocess.run([*base, "--help"], capture_output=True, text=True)
    for name, args in commands.items():
        if f" {args[0]} " not in help_run.stdout and f"  {args[0]}" not in help_run.stdout:
            results[name] = "command not available"
            continue
        runs = [harness.measure([*base, *args]).check(" ".join(args)) for _ in range(repeat)]
        results[f"{name}_wall_ms"] = harness.median([run.wall_s * 1000 for run in runs])
        results[f"{name}_peak_rss_mb"] = harness.median([run.peak_rss_mb for run in runs])
        results[f"{name}_output_lines"] = runs[-1].stdout.count("\n")
    startup = [harness.measure([*base, "--help"]) for _ in range(repeat)]
    results["cli_startup_wall_ms"] = harness.median([run.wall_s * 1000 for run in startup])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100 metrics, 3 repetitions")
    args = parser.parse_args()
    if args.quick:
        args.metrics, args.repeat = 100, 3
    path, info = database(args.metrics)
    metric = obsdb.metric_name(args.metrics // 2)
    data = {"database": info, "metric": metric, "as_of": AS_OF, "repeat": args.repeat}
    data["library"] = library_latency(path, metric, max(args.repeat, 20))
    data["cli"] = cli_latency(cli_config(path), metric, args.repeat)
    harness.publish("queries", data, report, quick=args.quick)


def report(data: dict) -> str:
    rows = [[key, value] for part in ("library", "cli") for key, value in data[part].items()]
    return harness.table(rows, ["measure", "value"])


if __name__ == "__main__":
    main()
