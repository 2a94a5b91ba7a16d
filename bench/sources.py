"""How the benchmarks configure crossings sources for the synthetic site and CSV files:
one place to follow the source kinds' keys as they evolve (`crossings kinds table`)."""

import statsite

CSV_METRIC = "bench.cbp.swb.usbp.encounters"


def table_source(index: int, url: str) -> str:
    """A `table` source for page `index` of the synthetic site: Table 1, fiscal years as
    columns, one series per row."""
    return f"""[sources.report{index:05d}]
kind = "table"
url = "{url}{statsite.page_path(index)}"
schedule = "6h"
caption = "Table 1."
columns = ["Class", "Case Type"]
metric = "bench.report{index:05d}.{{row}}"
unit = "cases"
"""


def csv_source(url: str) -> str:
    """The CBP-shaped file as one monthly series: Border Patrol, Southwest Land Border."""
    return f"""[sources.cbp]
kind = "csv"
url = "{url}"
schedule = "6h"
metric = "{CSV_METRIC}"
value = "Encounter Count"
year = "Fiscal Year"
month = "Month (abbv)"
filters = {{ Component = "U.S. Border Patrol", "Land Border Region" = "Southwest Land Border" }}
unit = "encounters"
"""
