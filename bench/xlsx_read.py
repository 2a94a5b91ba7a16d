"""Reading a sheet: a 200,000-row OHSS-shaped workbook (bench/xlsxsheet.py) read into
monthly sums by crossings' `xlsx` extractor (python-calamine, a whole process) and by
pandas `read_excel` with openpyxl (a whole process, in bench/.work/venv), in the same run,
alternating which goes first. Both sums are checked against a reference.

    .venv/bin/python bench/xlsx_read.py --rows 200000 --repeat 3
    .venv/bin/python bench/xlsx_read.py --quick     # 20,000 rows, 1 repetition
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import xlsxsheet

TOLERANCE = 1e-6
TOOLS = {
    "pandas": lambda: [str(harness.baseline_venv() / "bin" / "python"),
                       str(harness.BENCH / "xlsx_pandas.py")],
    "crossings": lambda: [str(harness.project_python()), str(harness.BENCH / "xlsx_crossings.py")],
}  # fmt: skip


def workbook(rows: int) -> Path:
    """The synthetic workbook, written once per size by the baseline venv's openpyxl."""
    path = harness.WORK / f"ohss-{rows}.xlsx"
    if not path.exists():
        python = harness.baseline_venv() / "bin" / "python"
        print(f"writing {path} ({rows:,} rows)", flush=True)
        script = str(harness.BENCH / "xlsxsheet.py")
        subprocess.run([str(python), script, str(rows), str(path)], check=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20,000 rows, 1 repetition")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeat = [20_000], 1
    data: dict = {"repeat": args.repeat, "sizes": {}}
    for rows in args.rows:
        path = workbook(rows)
        expected = xlsxsheet.reference(rows)
        runs: dict[str, list[harness.Measure]] = {tool: [] for tool in TOOLS}
        agree: dict[str, bool] = {}
        for rep in range(args.repeat):
            for tool in harness.alternating(list(TOOLS), rep):
                run = harness.measure([*TOOLS[tool](), str(path)]).check(tool)
                sums = json.loads(run.stdout)["sums"]
                agree[tool] = set(sums) == set(expected) and all(
                    abs(sums[key] - value) <= TOLERANCE for key, value in expected.items()
                )
                runs[tool].append(run)
                print(f"  {tool:<9} {rows:>9,} rows {run.wall_s:6.2f} s wall {run.cpu_s:6.2f} s "
                      f"cpu {run.peak_rss_mb:6.1f} MB sums {'agree' if agree[tool] else 'DIFFER'}",
                      flush=True)  # fmt: skip
        data["sizes"][rows] = {
            tool: {
                **harness.medians(measured, rows),
                "file_mb": path.stat().st_size / 2**20,
                "sums_agree_with_reference": agree[tool],
            }
            for tool, measured in runs.items()
        }
    harness.publish("xlsx", data, report, quick=args.quick)


def report(data: dict) -> str:
    rows = []
    for size, tools in data["sizes"].items():
        p, c = tools["pandas"], tools["crossings"]
        rows.append([
            int(size), f"{p['file_mb']:.1f}", f"{p['wall_s']:.2f} / {c['wall_s']:.2f}",
            f"**{harness.ratio(c['rows_per_s'], p['rows_per_s']):.1f}x**",
            f"{p['cpu_s']:.2f} / {c['cpu_s']:.2f}",
            f"{p['peak_rss_mb']:.0f} / {c['peak_rss_mb']:.0f}",
            "yes" if p["sums_agree_with_reference"] and c["sums_agree_with_reference"] else "NO",
        ])  # fmt: skip
    header = ["rows", "file MB", "wall s (pandas / crossings)", "speed c/p", "CPU s (p / c)",
              "peak RSS MB (p / c)", "sums agree"]  # fmt: skip
    return harness.table(rows, header)


if __name__ == "__main__":
    main()
