"""`crossings inspect` as a user runs it (a whole process, start-up included): a 30 KB
TRAC-style report page (bench/statsite.py's page) and the real 1.16 MB OHSS workbook (16
sheets), listed (dry runs for a second, the rest on --pick) and one table picked (its dry
run over 906 values). Target: under 2 s each. Named so, not bench/inspect.py: a script
there would shadow the standard library's `inspect` for every script in bench/.

    .venv/bin/python bench/inspection.py --repeat 5
    .venv/bin/python bench/inspection.py --quick     # 1 repetition
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import statsite

WORKBOOK = (
    harness.ROOT / "tests" / "fixtures" / "real" / "cbp_usbp_khsm_encounters_fy25m11_2025-09.xlsx"
)


def page() -> Path:
    path = harness.WORK / "inspect-report-page.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(statsite.render_page(0, 1))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1 repetition")
    args = parser.parse_args()
    if args.quick:
        args.repeat = 1
    report_page = page()
    cases = {
        f"report page ({report_page.stat().st_size / 1024:.0f} KB), listed": [str(report_page)],
        f"OHSS workbook ({WORKBOOK.stat().st_size / 2**20:.2f} MB), listed": [str(WORKBOOK)],
        "OHSS workbook, --pick 6 (Monthly Region)": [str(WORKBOOK), "--pick", "6"],
    }
    data: dict = {"repeat": args.repeat, "cases": {}}
    for name, arguments in cases.items():
        measures = []
        for _ in range(args.repeat):
            measured = harness.measure([*harness.crossings_command(), "inspect", *arguments])
            if measured.returncode != 0:
                raise SystemExit(f"{name}: crossings inspect exited {measured.returncode}")
            measures.append(measured)
        data["cases"][name] = harness.medians(measures, 1)
    harness.publish("inspect", data, report, quick=args.quick)


def report(data: dict) -> str:
    rows = [
        [name, figures["wall_s"], figures["cpu_s"], figures["peak_rss_mb"]]
        for name, figures in data["cases"].items()
    ]
    return harness.table(rows, ["crossings inspect", "wall s", "CPU s", "peak RSS MB"])


if __name__ == "__main__":
    main()
