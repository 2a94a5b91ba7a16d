"""How the benchmarks configure crossings sources for the synthetic site and CSV files:
one place to follow the source kinds' keys as they evolve (`crossings kinds table`)."""

import statsite


def table_source(index: int, url: str) -> str:
    """A `table` source for page `index` of the synthetic site."""
    return f"""[sources.report{index:05d}]
kind = "table"
url = "{url}{statsite.page_path(index)}"
schedule = "6h"
"""
