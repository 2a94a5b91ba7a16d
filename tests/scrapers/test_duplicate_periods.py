"""A page that gives one period twice, crawled from a real local server through the
crawl child: the run is `broken`, naming the rows, and nothing is stored - for tables
with periods down the rows and JSON records alike (every kind goes through the same
check; a CSV source sums its rows by design); a source that says how to combine them
stores one value that does not depend on the order of the rows, so reordering them
records no revision."""

import pytest

from jobs.runners.local import LocalRunner
from storage import Store
from tests.configs import settings
from tests.scrapers.server import Route, Site

ROWS = [("FY 2023", "1,200"), ("FY 2024", "1,500"), ("FY 2024", "1,700")]


def table(rows) -> bytes:
    cells = "".join(f"<tr><td>{period}</td><td>{value}</td></tr>" for period, value in rows)
    return f"<table><tr><th>Year</th><th>Cases</th></tr>{cells}</table>".encode()


def records(rows) -> bytes:
    items = ", ".join(f'{{"fy": "{p[3:]}", "n": "{v}"}}' for p, v in rows)
    return f'{{"timeline": [{items}]}}'.encode()


def write_config(tmp_path, url: str, duplicates: str = "") -> None:
    combine = f'duplicates = "{duplicates}"\n' if duplicates else ""
    (tmp_path / "crossings.toml").write_text(
        settings(obey_robots_txt=False)
        + f"""
[sources.rows]
kind = "table"
url = "{url}/rows.html"
periods = "rows"
metric = "cases.{{column}}"
{combine}
[sources.records]
kind = "json"
url = "{url}/records.json"
records = "timeline"
period = "fy"
{combine}[sources.records.values]
n = "records.n"
"""
    )


@pytest.fixture
def site():
    served = Site()
    served.routes["/rows.html"] = Route(table(ROWS))
    served.routes["/records.json"] = Route(records(ROWS), "application/json")
    yield served
    served.close()


def crawl(tmp_path):
    results = LocalRunner(tmp_path / "crossings.toml").crawl_sync(["rows", "records"])
    return {result.source: result for result in results}


def stored(tmp_path) -> dict[tuple[str, str], float]:
    with Store(tmp_path / "crossings.db", read_only=True) as store:
        rows = store.db.execute("SELECT metric, period, value FROM observations").fetchall()
    return {(metric, period): value for metric, period, value in rows}


def test_one_period_twice_is_broken_naming_the_rows_and_stores_nothing(tmp_path, site):
    write_config(tmp_path, site.url)
    results = crawl(tmp_path)
    assert results["rows"].status == "broken"
    assert "cases.cases FY2024 in row 2 ('FY 2024') (1500) and row 3 ('FY 2024') (1700)" in (
        results["rows"].reason
    )
    assert results["records"].status == "broken"
    assert "records.n 2024 in record 2 ('2024') (1500) and record 3 ('2024') (1700)" in (
        results["records"].reason
    )
    assert 'duplicates = "sum"' in results["rows"].reason  # what to do
    assert stored(tmp_path) == {}


def test_combined_duplicates_do_not_depend_on_row_order(tmp_path, site):
    write_config(tmp_path, site.url, duplicates="sum")
    assert {r.status for r in crawl(tmp_path).values()} == {"ok"}
    first = stored(tmp_path)
    assert first[("cases.cases", "FY2024")] == 3200 and first[("records.n", "2024")] == 3200
    reordered = list(reversed(ROWS))
    site.routes["/rows.html"] = Route(table(reordered))
    site.routes["/records.json"] = Route(records(reordered), "application/json")
    again = crawl(tmp_path)
    assert {r.values_revised for r in again.values()} == {0}
    assert stored(tmp_path) == first
