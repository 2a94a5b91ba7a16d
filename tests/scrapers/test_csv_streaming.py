"""A CSV of a million CBP-shaped rows is streamed: the crawl child's memory does not grow
with the file, and the sums are right."""

import json
import subprocess
import sys
from itertools import cycle, islice
from pathlib import Path

from storage import Store
from tests.configs import settings
from tests.scrapers.server import Route, Site

ROWS = 1_000_000
HEADER = (
    "Fiscal Year,Month Grouping,Month (abbv),Component,Land Border Region,"
    "Area of Responsibility,AOR (Abbv),Demographic,Citizenship,Title of Authority,"
    "Encounter Type,Encounter Count\n"
)
MONTHS = ["OCT", "NOV", "DEC", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP"]
KINDS = [
    ("U.S. Border Patrol", "Southwest Land Border", "El Paso Sector", "EPT", "Apprehensions"),
    ("U.S. Border Patrol", "Northern Land Border", "Blaine Sector", "BLW", "Apprehensions"),
    ("Office of Field Operations", "Southwest Land Border", "El Paso Field Office",
     "El Paso", "Inadmissibles"),
]  # fmt: skip
CONFIG = (
    settings(max_body_mb=500)
    + """
[sources.aor]
kind = "csv"
url = "{url}/nationwide-encounters-fy22-fy25-aor.csv"
metric = "cbp.{{land_border_region}}.usbp.encounters"
value = "Encounter Count"
year = "Fiscal Year"
month = "Month (abbv)"
[sources.aor.filters]
Component = "U.S. Border Patrol"
"""
)
# The crawl child, with its peak memory reported by the process that waited for it.
MEASURED = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run([sys.executable, '-m', 'jobs.runners.child', *sys.argv[1:]],"
    " capture_output=True, text=True)\n"
    "print(done.stdout, end='')\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def write_file(path: Path) -> int:
    """A CBP-shaped file; returns the Southwest Border Patrol sum for June 2024."""
    expected = 0
    combos = cycle(
        (year, month, kind, demographic)
        for year in ("2022", "2023", "2024", "2025 (FYTD)")
        for month in MONTHS
        for kind in KINDS
        for demographic in ("Single Adults", "FMUA", "UC / Single Minors", "Accompanied Minors")
    )
    with path.open("w") as out:
        out.write(HEADER)
        for number, (year, month, kind, demographic) in enumerate(islice(combos, ROWS)):
            count = number % 97
            component, region, aor, abbv, encounter = kind
            out.write(
                f"{year},FYTD,{month},{component},{region},{aor},{abbv},{demographic},"
                f'"CHINA, PEOPLES REPUBLIC OF",Title 8,{encounter},{count}\n'
            )
            if (year, month, region, component) == (
                "2024",
                "JUN",
                "Southwest Land Border",
                "U.S. Border Patrol",
            ):
                expected += count
    return expected


def test_a_million_rows_stream_through_in_flat_memory(tmp_path):
    data = tmp_path / "aor.csv"
    expected = write_file(data)
    site = Site()
    site.routes["/nationwide-encounters-fy22-fy25-aor.csv"] = Route(file=data)
    config = tmp_path / "crossings.toml"
    config.write_text(CONFIG.format(url=site.url))
    try:
        done = subprocess.run(
            [sys.executable, "-c", MEASURED, "--config", str(config), "aor"],
            capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
    finally:
        site.close()
    *lines, peak_kb = done.stdout.strip().splitlines()
    finished = [json.loads(line) for line in lines if '"finished"' in line]
    assert finished[0]["status"] == "ok", finished
    assert finished[0]["bytes"] == data.stat().st_size > 100_000_000
    assert int(peak_kb) < 200 * 1024, f"peak RSS {int(peak_kb) // 1024} MB"
    with Store(tmp_path / "crossings.db", read_only=True) as store:
        points = store.observations.series("cbp.southwest_land_border.usbp.encounters")
        assert {p.period: p.value for p in points}["2024-06"] == expected
