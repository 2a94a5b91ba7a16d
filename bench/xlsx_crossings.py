"""crossings reading the same sheet: the `xlsx` extractor (python-calamine, the grid
reader, one observation per region and month), then the sum per month over regions,
printed as JSON. Run with the project's Python:

    .venv/bin/python bench/xlsx_crossings.py PATH
"""

import json
import sys
from collections import defaultdict
from pathlib import Path

from scrapers.extract import Page, extract
from scrapers.kinds.xlsx import XlsxSource

path = Path(sys.argv[1])
source = XlsxSource(
    name="bench-xlsx", url=f"https://example.org/{path.name}", sheet="Monthly Region",
    periods="rows", period_column="Fiscal Year", month_column="Month", fiscal=True,
    metric="bench.{region}",
)  # fmt: skip
extraction = extract(source, Page(source.url, opener=lambda: path.open("rb")))
sums: dict[str, float] = defaultdict(float)
for observation in extraction.observations:
    sums[observation.period] += observation.value or 0.0
print(json.dumps({"rows": len(extraction.observations), "sums": sums}))
