"""Real captures crawled from a real local server with `crossings crawl`, as a user runs it:
an ICE workbook found on its landing page and dated by the link text or the file name;
layouts remembered after the first good crawl (a renamed row is `broken` and says what
changed; `allow_new` stores a new row and alerts a notice); a table all '-' is a good run
with a note; and the request headers each source sends."""

import re
from pathlib import Path

import pytest

from storage import Store
from tests.commands import crossings
from tests.configs import settings
from tests.scrapers.server import Route, Site

REAL = Path(__file__).parent.parent / "fixtures" / "real"
CUSTODY = (REAL / "cbp_custody_and_transfer_statistics_page_2026-09-12.html").read_bytes()
ICE_FILE = "/doclib/detention/FY26_detentionStats_02122026.xlsx"
ICE_COPY = "/mirror/FY26_detentionStats_02122026.xlsx"  # ice-file's own address: one client
LANDING = f"""<html><body><h2>Detention Statistics</h2><ul>
<li><a href="/doclib/detention/FY25_detentionStats09252025.xlsx">FY2025 Detention Stats</a></li>
<li><a href="{ICE_FILE}">FY2026 ICE Detention Statistics
  (data as of 02/12/2026)</a></li>
<li><a href="/doclib/detention/guide.pdf">Guide</a></li></ul></body></html>""".encode()

CONFIG = (
    settings(timeout=5, retries=0, contact="desk@example.org")
    + """
[sources.ice-landing]
kind = "xlsx"
url = "{url}/detain/detention-management"
link = 'detentionStats_?\\d{{8}}\\.xlsx$'
sheet = "Detention FY*"
table_title = "ICE Currently Detained by Criminality and Arresting Agency"
periods = "as_of"
as_of = "link"
as_of_regex = 'as of (\\d\\d/\\d\\d/\\d{{4}})'
metric = "ice.detained.{{row}}.{{column}}"
referer = "https://www.ice.gov/detain/detention-management"

[sources.ice-file]
kind = "xlsx"
url = "{url}{ice_copy}"
sheet = "detention fy*"
table_title = "ICE Initial Book-Ins by Arresting Agency and Month"
as_of = "file"
as_of_regex = '(?P<month>\\d\\d)(?P<day>\\d\\d)(?P<year>\\d{{4}})\\.xlsx$'
metric = "ice.book_ins.{{agency}}"
user_agent = "Mozilla/5.0 (X11; Linux x86_64) newsroom-desk"
headers = {{ Accept = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" }}

[sources.custody]
kind = "table"
url = "{url}/newsroom/stats/custody-and-transfer-statistics"
caption = "Southwest Border in Custody"
metric = "cbp.ofo.custody.{{row}}"

[sources.custody-welcoming]
kind = "table"
url = "{url}/welcoming/custody"
caption = "Southwest Border in Custody"
metric = "cbp.ofo.welcoming.{{row}}"
allow_new = true

[sources.title8]
kind = "table"
url = "{url}/october/custody"
caption = "Title 8 Inadmissibles"
metric = "cbp.ofo.title8.{{row}}"

[channels.log]
kind = "console"

[rules.health]
kind = "source_health"
channels = ["log"]
"""
)


def current(database: Path, prefix: str) -> dict[tuple[str, str], float]:
    with Store(database, read_only=True) as store:
        rows = store.db.query(
            "SELECT metric, period, value FROM observations "
            "WHERE superseded_at IS NULL AND metric LIKE ?",
            [prefix + "%"],
        )
        return {(row["metric"], row["period"]): row["value"] for row in rows}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real-crawl")
    site = Site()
    site.routes.update({
        "/detain/detention-management": Route(LANDING),
        ICE_FILE: Route(file=REAL / "ice_detention_stats_fy2026_2026-02-12.xlsx"),
        ICE_COPY: Route(file=REAL / "ice_detention_stats_fy2026_2026-02-12.xlsx"),
        "/newsroom/stats/custody-and-transfer-statistics": Route(CUSTODY),
        "/welcoming/custody": Route(CUSTODY),
        "/october/custody": Route(CUSTODY),
    })  # fmt: skip
    config = folder / "crossings.toml"
    config.write_text(CONFIG.format(url=site.url, ice_copy=ICE_COPY))
    first = crossings(config, "crawl", "--all")
    yield site, config, folder / "crossings.db", first
    site.close()


def test_ice_workbook_found_on_its_landing_page_and_dated_by_link_text_or_file_name(world):
    _, _, database, first = world
    assert first.returncode == 0, first.stdout + first.stderr
    found = current(database, "ice.")
    assert found[("ice.detained.total.total", "2026-02-12")] == 68289
    assert found[("ice.detained.total.ice", "2026-02-12")] == 57501
    assert found[("ice.detained.total.cbp", "2026-02-12")] == 10788
    assert found[("ice.book_ins.total", "2025-10")] == 41618


def test_each_source_sends_its_own_headers_and_the_default_agent_is_browser_compatible(world):
    site, config, _, _ = world
    landing = site.request_headers["/detain/detention-management"]
    assert landing["User-Agent"] == (
        f"Mozilla/5.0 (compatible; crossings/{_version()}; +desk@example.org)"
    )
    assert landing["Referer"] == "https://www.ice.gov/detain/detention-management"
    workbook = site.request_headers[ICE_COPY]  # the last request: the streamed GET
    assert workbook["User-Agent"] == "Mozilla/5.0 (X11; Linux x86_64) newsroom-desk"
    assert workbook["Accept"].startswith("application/vnd.openxmlformats")
    checked = crossings(config, "check")
    assert checked.returncode == 0, checked.stderr
    assert "sends User-Agent: Mozilla/5.0 (X11; Linux x86_64) newsroom-desk" in checked.stdout
    assert "sends Referer: https://www.ice.gov/detain/detention-management" in checked.stdout


def _version() -> str:
    from importlib.metadata import version

    return version("crossings")


def test_a_renamed_row_is_broken_says_what_changed_and_keeps_what_was_stored(world):
    site, config, database, _ = world
    before = current(database, "cbp.ofo.custody.")
    assert before[("cbp.ofo.custody.in_custody_capacity", "2025-10")] == 902
    path = "/newsroom/stats/custody-and-transfer-statistics"
    site.routes[path].body = CUSTODY.replace(b"In Custody Capacity", b"Holding Capacity")
    renamed = crossings(config, "crawl", "custody")
    assert renamed.returncode == 1
    assert "custody: the table changed since it was first read on" in renamed.stdout
    assert "row 'In Custody Capacity' is gone; new row 'Holding Capacity'" in renamed.stdout
    assert "alert firing: " in renamed.stdout  # source_health: broken at once
    assert current(database, "cbp.ofo.custody.") == before

    accepted = crossings(config, "reparse", "custody", "--accept-layout")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert (
        current(database, "cbp.ofo.custody.")[("cbp.ofo.custody.holding_capacity", "2025-10")]
        == 902
    )
    again = crossings(config, "crawl", "custody")
    assert again.returncode == 0, again.stdout + again.stderr


def test_allow_new_stores_a_new_row_and_alerts_a_notice(world):
    site, config, database, _ = world
    extra = (b"<tr><th scope=\"row\"><strong>Soft-Sided Facility Capacity</strong></th>"
             + b"<td>1,000</td>" * 12 + b"</tr></tbody></table>")  # fmt: skip
    table_end = CUSTODY.index(b"</tbody></table>", CUSTODY.index(b"In Custody Capacity"))
    site.routes["/welcoming/custody"].body = (
        CUSTODY[:table_end] + extra + CUSTODY[table_end + len(b"</tbody></table>") :]
    )
    welcomed = crossings(config, "crawl", "custody-welcoming")
    assert welcomed.returncode == 0, welcomed.stdout + welcomed.stderr
    assert "new row 'Soft-Sided Facility Capacity' (stored: allow_new = true)" in welcomed.stdout
    assert "alert notice: [notice] health: run " in welcomed.stdout
    found = current(database, "cbp.ofo.welcoming.")
    assert found[("cbp.ofo.welcoming.soft_sided_facility_capacity", "2026-01")] == 1000

    site.routes["/welcoming/custody"].body = CUSTODY.replace(b"In Custody Capacity", b"Beds")
    gone = crossings(config, "crawl", "custody-welcoming")
    assert gone.returncode == 1 and "row 'In Custody Capacity' is gone" in gone.stdout


def test_a_table_not_yet_published_is_a_good_run_with_a_note(world):
    site, config, database, _ = world
    start = re.search(rb"<h3>\s*Title 8 Inadmissibles", CUSTODY).start()
    end = CUSTODY.index(b"</table>", start)
    value = rb"<td>\s*(?:<strong>)?\s*[\d,]+\s*(?:</strong>)?\s*</td>"
    blank, count = re.subn(value, b"<td>-</td>", CUSTODY[start:end])
    assert count == 5 * 9  # 5 rows (4 field offices and the total) x Oct-24 ... Jun-25
    site.routes["/october/custody"].body = CUSTODY[:start] + blank + CUSTODY[end:]
    october = crossings(config, "crawl", "title8")
    assert october.returncode == 0, october.stdout + october.stderr
    assert "title8  ok" in october.stdout
    assert "every value cell of the table at" in october.stdout
    with Store(database, read_only=True) as store:
        run = store.runs.recent("title8", limit=1)[0]
        assert run.status == "ok" and "nothing is published there yet" in run.reason
    assert current(database, "cbp.ofo.title8.")[("cbp.ofo.title8.el_paso", "2024-10")] == 7828
