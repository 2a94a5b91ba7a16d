"""`crossings inspect --source NAME` on a source made broken by the site: a renamed column,
a moved table. From the stored page alone it proposes the smallest change of the block;
applied to the config, `crossings reparse` stores the right values. End to end: real
crawls from a local server, the CLI as a user runs it, a real SQLite file."""

import html
import re

import pytest
import requests
import tomli_w

from jobs.config import load
from storage import Store
from tests.commands import crossings
from tests.query.servers import serving
from tests.scrapers.server import Route, Site

DAILY = """<html><body><h2>Daily encounters</h2>
<table><tr><th>{date}</th><th>Encounters</th></tr>
<tr><td>2024-06-01</td><td>3,100</td></tr><tr><td>2024-06-02</td><td>2,950</td></tr>
<tr><td>2024-06-03</td><td>{third}</td></tr></table></body></html>"""
COMPLETIONS = """<p><b>{title}</b></p><table><tr><th>Class</th><th>Case Type</th>
<th>FY 2021</th><th>FY 2022</th></tr><tr><td>Deport</td><td>Removal</td><td>131,448</td>
<td>{removal}</td></tr><tr><td>Other</td><td>Asylum Only</td><td>165</td><td>437</td></tr>
</table>"""
OTHER = """<p><b>Table 1. Pending cases by state</b></p><table><tr><th>State</th><th>FY 2021</th>
<th>FY 2022</th></tr><tr><td>Texas</td><td>10</td><td>12</td></tr></table>"""

# case: the block (as configured), the page before, the page after, the change the fix
# must make, and values stored after the reparse
CASES = {
    "renamed-column": (
        {"kind": "table", "periods": "rows", "period_column": "Date",
         "metric": "cbp.daily.{column}"},
        DAILY.format(date="Date", third="3,020"),
        DAILY.format(date="Report Date", third="3,021"),
        ['+period_column = "Report Date"'],
        {("cbp.daily.encounters", "2024-06-03"): 3021,
         ("cbp.daily.encounters", "2024-06-01"): 3100},
    ),
    "moved-table": (
        {"kind": "table", "caption": "Table 1.", "columns": ["Class", "Case Type"],
         "metric": "trac.completions.{row}"},
        "<html><body>" + COMPLETIONS.format(title="Table 1. Completions", removal="355,039")
        + "</body></html>",
        "<html><body>" + OTHER + COMPLETIONS.format(title="Table 2. Completions by case type",
                                                    removal="355,101") + "</body></html>",
        ['+caption = "Table 2. Completions by case type"'],
        {("trac.completions.deport.removal", "FY2022"): 355101,
         ("trac.completions.other.asylum_only", "FY2021"): 165},
    ),
    "renamed-key": (
        {"kind": "json", "period": "date", "values": {"total_all": "trac.detention.total",
                                                      "total_other": "trac.detention.other"}},
        '[{"date": "02/07/2026", "total_all": 68289, "total_other": 32364}]',
        '[{"date": "02/07/2026", "total_all_detained": 68290, "total_other": 32364},'
        ' {"date": "01/24/2026", "total_all_detained": 66001, "total_other": 30000}]',
        ['+total_all_detained = "trac.detention.total"'],
        {("trac.detention.total", "2026-02-07"): 68290,
         ("trac.detention.total", "2026-01-24"): 66001},
    ),
}  # fmt: skip


@pytest.fixture
def site():
    served = Site()
    yield served
    served.close()


def config_with(tmp_path, site: Site, name: str, keys: dict) -> tuple:
    path = tmp_path / "crossings.toml"
    block = tomli_w.dumps(
        {
            "sources": {
                name: {
                    "kind": keys["kind"],
                    "url": f"{site.url}/page",
                    **{k: v for k, v in keys.items() if k != "kind"},
                }
            }
        }
    )
    path.write_text(f'[settings]\ndatabase = "{tmp_path / "c.db"}"\ndownload_delay = 0\n\n{block}')
    return path, block


@pytest.mark.parametrize("case", CASES)
def test_inspect_source_proposes_the_fix_and_reparse_stores_the_values(tmp_path, site, case):
    keys, before, after, changes, expected = CASES[case]
    site.routes["/page"] = Route(before.encode())
    config, block = config_with(tmp_path, site, "src", keys)
    first = crossings(config, "crawl", "src", "--no-alerts")
    assert first.returncode == 0, first.stdout + first.stderr
    site.routes["/page"] = Route(after.encode())
    broken = crossings(config, "crawl", "src", "--no-alerts")
    assert broken.returncode == 1 and " broken " in broken.stdout, broken.stdout
    assert "`crossings inspect --source src` shows what the page has now" in broken.stdout
    assert "network" not in broken.stdout  # the page was reached: no network advice
    with Store(tmp_path / "c.db", read_only=True) as store:
        assert store.runs.recent("src", limit=1)[0].reason.endswith(
            "`crossings reparse src` stores its values"
        )

    shown = crossings(config, "inspect", "--source", "src")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "What it expected:" in shown.stdout and "What the page has now" in shown.stdout
    diff = shown.stdout.split("@@\n", 1)[1].split("\nIt would store", 1)[0]
    for change in changes:
        assert change in diff.splitlines(), diff
    with serving(load(config)) as web:  # the broken source's page shows the same, read-only
        page = requests.get(f"{web}/sources/src", timeout=30).text
    assert "What the page has now" in page and "Proposed config" in page
    assert changes[0] in html.unescape(page)  # autoescaped
    assert "crossings reparse src" in page
    edited = "\n".join(line[1:] for line in diff.splitlines() if line[:1] in (" ", "+")) + "\n"
    config.write_text(config.read_text().replace(block, edited))
    assert crossings(config, "check").returncode == 0

    command = re.search(r"then: `(?:crossings|\S+ -m jobs) (reparse [^`]+)`", shown.stdout).group(1)
    reparsed = crossings(config, *command.split())
    assert reparsed.returncode == 0, reparsed.stdout + reparsed.stderr
    with Store(tmp_path / "c.db", read_only=True) as store:
        rows = store.db.query("SELECT metric, period, value FROM observations "
                              "WHERE superseded_at IS NULL")  # fmt: skip
        current = {(row["metric"], row["period"]): row["value"] for row in rows}
    for key, value in expected.items():
        assert current[key] == value, key


def test_a_source_that_reads_as_configured_says_so(tmp_path, site):
    keys, before, *_ = CASES["moved-table"]
    site.routes["/page"] = Route(before.encode())
    config, _ = config_with(tmp_path, site, "src", keys)
    assert crossings(config, "crawl", "src", "--no-alerts").returncode == 0
    shown = crossings(config, "inspect", "--source", "src")
    assert shown.returncode == 0 and "It reads as configured." in shown.stdout


def test_a_source_with_nothing_stored_says_how_to_fetch_it(tmp_path, site):
    config, _ = config_with(tmp_path, site, "src", CASES["moved-table"][0])
    shown = crossings(config, "inspect", "--source", "src")
    assert shown.returncode == 1
    said = shown.stderr.strip()
    assert said.startswith("Error: ") and "\n" not in said and " crawl " in said, said
