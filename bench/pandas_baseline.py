"""The pandas baseline for CSV ingest, run in bench/.work/venv: read the whole CBP-shaped
file with `read_csv` (defaults), keep Border Patrol on the Southwest Land Border, sum
`Encounter Count` by fiscal year and month, and print the sums by calendar month as JSON.

    bench/.work/venv/bin/python bench/pandas_baseline.py URL
"""

import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cbpcsv import SOUTHWEST, USBP, calendar_month

frame = pd.read_csv(sys.argv[1])
selected = frame[(frame["Component"] == USBP) & (frame["Land Border Region"] == SOUTHWEST)]
sums = selected.groupby(["Fiscal Year", "Month (abbv)"])["Encounter Count"].sum()
result = {calendar_month(year, month): float(total) for (year, month), total in sums.items()}
print(json.dumps({"rows": len(frame), "sums": result}))
