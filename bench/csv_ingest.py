"""CSV ingest: a CBP-shaped file (the real header, synthetic counts) served by the local
site, turned into a monthly series (Border Patrol, Southwest Land Border, summed by fiscal
year and month) by crossings' `csv` source kind (`crossings crawl`, a whole process), and
by pandas (`read_csv` + `groupby`, a whole process, in bench/.work/venv) in the same run.
Both read the file over HTTP from the same server; both sums are checked against a
reference computed with the csv module.

    .venv/bin/python bench/csv_ingest.py --rows 250000 500000 1000000 --repeat 3
    .venv/bin/python bench/csv_ingest.py --quick     # 100,000 rows, 1 repetition
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cbpcsv
import harness
from sources import CSV_METRIC, csv_source

from storage import Store

TOLERANCE = 1e-6
# Deviations from the defaults, each stated in bench/README.md: no politeness delay for the
# local server, and a body limit above the default 100 MB (1,000,000 rows are 127 MB).
SETTINGS = "download_delay = 0.0\nmax_body_mb = 1024\n"


def crossings_run(url: str, directory: Path) -> tuple[harness.Measure, dict[str, float]]:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    config = directory / "crossings.toml"
    config.write_text(f'[settings]\ndatabase = "crossings.db"\n{SETTINGS}\n' + csv_source(url))
    run = harness.measure(
        [*harness.crossings_command(), "--config", str(config), "crawl", "--all"], cwd=directory
    ).check("crossings crawl (csv)")
    with Store(directory / "crossings.db", read_only=True) as store:
        sums = {point.period: point.value for point in store.observations.series(CSV_METRIC)}
    return run, sums


def pandas_run(url: str) -> tuple[harness.Measure, dict[str, float]]:
    python = harness.baseline_venv() / "bin" / "python"
    run = harness.measure([str(python), str(harness.BENCH / "pandas_baseline.py"), url])
    run.check("pandas baseline")
    return run, json.loads(run.stdout)["sums"]


def differences(found: dict[str, float], expected: dict[str, float]) -> list[str]:
    wrong = [
        f"{period}: {found.get(period)} != {value}"
        for period, value in sorted(expected.items())
        if abs(found.get(period, float("nan")) - value) > TOLERANCE
    ]
    extra = sorted(set(found) - set(expected))
    return wrong + [f"{period}: unexpected" for period in extra]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[250_000, 500_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tools", nargs="+", default=["pandas", "crossings"])
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 1 repetition")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeat = [100_000], 1
    data: dict = {"repeat": args.repeat, "sizes": {}}
    for rows in args.rows:
        path = cbpcsv.write(rows, harness.WORK / f"cbp-{rows}.csv")
        expected = cbpcsv.southwest_usbp_monthly(path)
        measures: dict[str, list] = {tool: [] for tool in args.tools}
        checks: dict[str, list[str]] = {}
        with harness.site(1, csv={"cbp.csv": path}) as site:
            url = f"{site.url}/data/cbp.csv"
            for rep in range(args.repeat):
                for tool in harness.alternating(args.tools, rep):
                    if tool == "pandas":
                        run, sums = pandas_run(url)
                    else:
                        run, sums = crossings_run(url, harness.WORK / "csv")
                    checks[tool] = differences(sums, expected)
                    measures[tool].append(run)
                    print(
                        f"  {tool:<9} {rows:>9,} rows {run.wall_s:6.2f} s wall "
                        f"{run.cpu_s:6.2f} s cpu {run.peak_rss_mb:6.1f} MB "
                        f"sums {'agree' if not checks[tool] else 'DIFFER'}",
                        flush=True,
                    )
        data["sizes"][rows] = {
            tool: {
                **harness.medians(runs, rows),
                "months": len(expected),
                "sums_agree_with_reference": not checks[tool],
                "differences": checks[tool][:10],
            }
            for tool, runs in measures.items()
        }
    harness.publish("csv", data, report, quick=args.quick)


def report(data: dict) -> str:
    rows = []
    for size, tools in data["sizes"].items():
        p, c = tools.get("pandas"), tools.get("crossings")
        rows.append(
            [
                size,
                p["rows_per_s"] if p else "-",
                c["rows_per_s"] if c else "-",
                harness.ratio(c["rows_per_s"], p["rows_per_s"]) if p and c else "-",
                p["peak_rss_mb"] if p else "-",
                c["peak_rss_mb"] if c else "-",
                "yes" if all(t["sums_agree_with_reference"] for t in tools.values()) else "NO",
            ]
        )
    return harness.table(
        rows,
        ["rows", "pandas rows/s", "crossings rows/s", "ratio", "pandas peak MB",
         "crossings peak MB", "sums agree"],
    )  # fmt: skip


if __name__ == "__main__":
    main()
