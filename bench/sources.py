"""How the benchmarks configure crossings sources for the synthetic site and CSV files:
one place to follow the source kinds' keys as they evolve (`crossings kinds table`)."""

import json
from pathlib import Path

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


def table_config(directory: Path, url: str, sources: int, settings: dict[str, object]) -> Path:
    """DIRECTORY/crossings.toml: the database beside it, `settings`, and `sources` table
    sources, one per page of the synthetic site at `url`."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["[settings]", 'database = "crossings.db"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    lines += ["", *(table_source(i, url) for i in range(sources))]
    path = directory / "crossings.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


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
