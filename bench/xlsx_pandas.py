"""The pandas baseline for reading a sheet, run in bench/.work/venv: `read_excel` with the
openpyxl engine (pandas' default for .xlsx), then the sum per fiscal year and month over
all regions, printed as JSON by calendar month.

    bench/.work/venv/bin/python bench/xlsx_pandas.py PATH
"""

import json
import sys

import pandas as pd

MONTHS = ["October", "November", "December", "January", "February", "March", "April",
          "May", "June", "July", "August", "September"]  # fmt: skip

frame = pd.read_excel(sys.argv[1], sheet_name="Monthly Region", engine="openpyxl")
sums = frame.groupby([frame.columns[0], "Month"])["Quantity"].sum()
result = {}
for (year, month), total in sums.items():
    number = MONTHS.index(month[3:]) + 1
    calendar = number + 9 if number <= 3 else number - 3
    result[f"{year - 1 if calendar >= 10 else year}-{calendar:02d}"] = float(total)
print(json.dumps({"rows": len(frame), "sums": result}))
