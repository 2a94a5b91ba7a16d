"""The bundled config (jobs/starter.toml), crawled as it is - only its hosts moved to a
real local server - over real captures of each source's page or file. A bundled source
with no real capture must say `unverified = true`; it is then crawled over a page shaped
like the real one (a demo page, or one built from the page's described structure)."""

import io
import re
import tomllib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobs.cli import cli
from jobs.config import parse
from jobs.demo.site import SITE
from jobs.runners.local import LocalRunner
from jobs.starter import starter_text
from scrapers.extract import Page
from scrapers.extract.links import find_file
from storage import Store
from tests.scrapers.server import Route, Site

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "real"
ICE_FILE = "/doclib/detention/FY26_detentionStats_02122026.xlsx"
ICE_JANUARY = "/doclib/detention/FY26_detentionStats01082026.xlsx"  # no underscore: as ICE named it
EOIR = "/www.justice.gov/eoir/media/1344791/dl"
EOIR_PDF = "EOIR_Pending_New_Completions_DataGenerated_2025-07-31.pdf"
OHSS_FILE = "/sites/default/files/2025-09/KHSM%20Encounters%20(USBP)%20fy25m11.xlsx"
NATIONWIDE_FILE = "/sites/default/files/2026-08/nationwide-encounters-fy23-fy26-jul-state.csv"
CUSTODY = "cbp_custody_and_transfer_statistics_page_2026-09-12.html"
SBO_FILE = "/sites/default/files/2025-09/sbo-encounters-fy22-fy25-aug.csv"

# Bundled source: what is served (path on the local server -> route), and values it must
# find there. Real captures unless the source is marked unverified.
VERIFIED = {
    "trac-detention": (
        {"/tracreports.org/immigration/detentionstats/pop_agen_table.json":
            Route((REAL / "trac_pop_agen_table_2026-07-11.json").read_bytes(),
                  "application/json")},
        {("trac.detention.total", "2026-02-07"): 68289,
         ("trac.detention.ice", "2026-02-07"): 57501,
         ("trac.detention.total", "2026-01-07"): 68990,
         ("trac.detention.no_conviction", "2026-02-07"): 68289 - 18030,
         ("trac.detention.no_conviction_no_charge", "2026-02-07"): 32364},
    ),
    "cbp-sbo-encounters": (
        {"/www.cbp.gov/document/stats/southwest-land-border-encounters":
            Route(f'<a href="{SBO_FILE}">Southwest Land Border Encounters</a>'.encode()),
         SBO_FILE: Route(file=SITE / "sbo-encounters-fy22-fy25-aug.csv")},
        {("cbp.swb.usbp.encounters", "2024-06"): 83532},
    ),
    "cbp-nationwide-encounters": (
        # The real dataset page; the newest -state link gets the real November release.
        {"/www.cbp.gov/document/stats/nationwide-encounters": Route(
            (REAL / "cbp_document_stats_nationwide_encounters_csv_links_2026-09-06.html")
            .read_bytes()),
         NATIONWIDE_FILE: Route(
             file=REAL / "cbp_nationwide_encounters_fy23_fy26_nov_state_2025-12.csv")},
        {("cbp.nationwide.southwest_land_border.encounters", "2025-10"): 11707,
         ("cbp.nationwide.northern_land_border.encounters", "2025-11"): 3588},
    ),
    "cbp-custody": (
        {"/www.cbp.gov/newsroom/stats/custody-and-transfer-statistics":
            Route((REAL / CUSTODY).read_bytes())},
        {("cbp.ofo.custody.in_custody_capacity", "2025-10"): 902,
         ("cbp.ofo.custody.in_custody", "2025-10"): 42,  # the "%" row, named by rename
         ("cbp.ofo.custody.in_custody.share", "2025-10"): 4.66},
    ),
    "cbp-monthly-table": (
        {"/www.cbp.gov/newsroom/stats/nationwide-encounters": Route(
            (REAL / "cbp_newsroom_stats_nationwide_encounters_2026-10-03_main.html").read_bytes())},
        {("cbp.table.southwest_border_total_apprehensions", "2026-08"): 8870,
         ("cbp.table.nationwide_total_apprehensions", "2026-08"): 10939,
         ("cbp.table.northern_border_total_apprehensions", "2026-08"): 563},
    ),
    "ice-detention": (
        {"/www.ice.gov/detain/detention-management":
            Route(f'<a href="{ICE_FILE}">FY2026 Detention Statistics</a>'.encode()),
         ICE_FILE: Route(file=REAL / "ice_detention_stats_fy2026_2026-02-12.xlsx")},
        # dated by the Footnotes sheet ("a snapshot as 02/07/2026"), as TRAC dates them
        {("ice.detained.total.total", "2026-02-07"): 68289,
         ("ice.detained.total.ice", "2026-02-07"): 57501,
         ("ice.detained.total.cbp", "2026-02-07"): 10788},
    ),
    "ohss-usbp-encounters": (
        {"/ohss.dhs.gov/khsm/cbp-encounters":
            Route(f'<a href="{OHSS_FILE}">KHSM Encounters (USBP)</a>'.encode()),
         OHSS_FILE: Route(
             file=REAL / "cbp_usbp_khsm_encounters_fy25m11_2025-09.xlsx")},
        {("ohss.usbp.southwest_land_border.encounters", "2024-11"): 46610},
    ),
    "eoir-pending": (
        {EOIR: Route((REAL / EOIR_PDF).read_bytes(), "application/pdf")},
        {("eoir.pending", "FY2025"): 3797662,  # "2025 (Third Quarter)"
         ("eoir.pending", "FY2024"): 3884956,
         ("eoir.initial_receipts", "FY2025"): 448019,
         ("eoir.total_completions", "FY2015"): 143638},
    ),
}  # fmt: skip
SHAPED = {  # unverified: pages shaped like the real ones
    "trac-quickfacts": ("/tracreports.org/immigration/quickfacts/eoir.html",
                        SITE / "quickfacts-eoir.html", "application/xhtml+xml"),
    "trac-detention-quickfacts": ("/tracreports.org/immigration/quickfacts/detention.html",
                                  FIXTURES / "trac_quickfacts_detention_described.html", ""),
    "trac-completions": ("/tracreports.org/reports/695/", SITE / "report-695.html", ""),
    "trac-asylum-grants": ("/tracreports.org/phptools/immigration/asylum/graph.php",
                           SITE / "asylum-graph.json", "application/json"),
    "trac-whatsnew": ("/tracreports.org/whatsnew/", SITE / "whatsnew.html", ""),
    "dhs-news": ("/www.dhs.gov/news/rss.xml", SITE / "dhs-news-rss.xml", "application/rss+xml"),
}  # fmt: skip
NOT_CRAWLED = {  # unverified, and nothing shaped like them to serve: read in unit tests
    "federal-register-border": "an RSS feed like dhs-news",
}


def bundled() -> dict:
    return tomllib.loads(starter_text())["sources"]


def test_every_bundled_source_is_verified_on_a_real_capture_or_says_unverified(tmp_path):
    sources = bundled()
    assert set(sources) == set(VERIFIED) | set(SHAPED) | set(NOT_CRAWLED)
    for name, table in sources.items():
        assert table.get("unverified", False) is (name not in VERIFIED), name
    config = tmp_path / "crossings.toml"
    config.write_text(starter_text())
    checked = CliRunner().invoke(cli, ["--config", str(config), "check"])
    assert checked.exit_code == 0, checked.output
    assert "Warning" not in checked.output
    lines = checked.output.split("\nRules (")[0].splitlines()
    flagged = {line.split()[0] for line in lines if line.endswith("(unverified)")}
    assert flagged == set(SHAPED) | set(NOT_CRAWLED)
    said_once = [line for line in lines if "sources are unverified" in line]
    assert said_once == [f"  {len(flagged)} of {len(sources)} sources are unverified: no real "
                         "copy of their pages was checked; their first crawls report what "
                         "they found"]  # fmt: skip
    assert sum("User-Agent" in line for line in lines) == 1


def crawl_bundled(folder: Path, routes: dict[str, Route], names: list[str]):
    """Crawl the bundled config's `names` over `routes` (paths of the real hosts on a local
    server); the runs' results and the database."""
    site = Site()
    site.routes.update(routes)
    text = re.sub(r'url = "https://', f'url = "{site.url}/', starter_text())
    text = re.sub(r"(?m)^database = .*$", 'database = "crossings.db"', text)
    text = re.sub(r"(?m)^download_delay = .*$", "download_delay = 0", text)
    config = folder / "crossings.toml"
    config.write_text(text)
    try:
        results = {r.source: r for r in LocalRunner(config).crawl_sync(names)}
    finally:
        site.close()
    return results, folder / "crossings.db"


def current_values(database: Path) -> dict[tuple[str, str], float]:
    with Store(database, read_only=True) as store:
        rows = store.db.query(
            "SELECT metric, period, value FROM observations WHERE superseded_at IS NULL"
        )
        return {(row["metric"], row["period"]): row["value"] for row in rows}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    routes: dict[str, Route] = {}
    for served, _ in VERIFIED.values():
        routes.update(served)
    for path, file, content_type in SHAPED.values():
        routes[path] = Route(file.read_bytes(), content_type or "text/html; charset=utf-8")
    return crawl_bundled(tmp_path_factory.mktemp("bundled"), routes, [*VERIFIED, *SHAPED])


def test_bundled_sources_read_their_pages(crawled):
    results, database = crawled
    for name, result in results.items():
        assert result.status == "ok", (name, result.reason)
        assert result.values_new or result.news_new, name
    current = current_values(database)
    for name, (_, expected) in VERIFIED.items():
        for key, value in expected.items():
            assert current.get(key) == pytest.approx(value), (name, key)
    assert current[("trac.court.backlog", "2025-05-31")] == 3546863
    # An unverified source's crawl shows what it found, to check against the page by eye.
    assert results["trac-quickfacts"].sample.startswith(
        "found 3: trac.court.backlog 2025-05-31 = 3,546,863; "
    )
    assert results["trac-whatsnew"].sample.startswith("found 3: 'Government Fails To Detain")
    assert all(results[name].sample is None for name in VERIFIED)
    assert current[("trac.quickfacts.detention.held", "2026-02-07")] == 68289


def test_ice_and_trac_give_the_same_figures_the_same_day(crawled, tmp_path):
    """ICE's workbook is dated by its Footnotes sheet, so that one figure sits under one
    date in the database whichever source brought it: 02/07/2026 (released 02/12), and
    01/07/2026 for the January release (released 01/08)."""
    _, database = crawled
    february = current_values(database)
    assert february[("ice.detained.total.total", "2026-02-07")] == 68289
    assert february[("trac.detention.total", "2026-02-07")] == 68289
    assert ("ice.detained.total.total", "2026-02-12") not in february
    january_routes = {
        "/www.ice.gov/detain/detention-management": Route(
            f'<a href="{ICE_JANUARY}">FY2026 Detention Statistics</a>'.encode()
        ),
        ICE_JANUARY: Route(file=REAL / "ice_FY26_detentionStats01082026.xlsx"),
        **VERIFIED["trac-detention"][0],
    }
    results, january_db = crawl_bundled(
        tmp_path, january_routes, ["ice-detention", "trac-detention"]
    )
    assert all(result.status == "ok" for result in results.values()), results
    january = current_values(january_db)
    ice = {period: value for (metric, period), value in january.items()
           if metric == "ice.detained.total.total"}  # fmt: skip
    assert ice == {"2026-01-07": 68990}
    assert january[("trac.detention.total", "2026-01-07")] == 68990


def test_a_workbook_without_its_footnotes_sheet_is_broken_and_changes_nothing(crawled, tmp_path):
    body = io.BytesIO()  # the real workbook, its Footnotes sheet renamed "Notes"
    with (
        zipfile.ZipFile(REAL / "ice_detention_stats_fy2026_2026-02-12.xlsx") as real,
        zipfile.ZipFile(body, "w", zipfile.ZIP_DEFLATED) as copy,
    ):
        for item in real.infolist():
            data = real.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b'name="Footnotes"', b'name="Notes"')
            copy.writestr(item, data)
    routes = {
        "/www.ice.gov/detain/detention-management": Route(
            f'<a href="{ICE_FILE}">FY2026 Detention Statistics</a>'.encode()
        ),
        ICE_FILE: Route(body.getvalue()),
    }
    results, database = crawl_bundled(tmp_path, routes, ["ice-detention"])
    result = results["ice-detention"]
    assert result.status == "broken"
    assert "expected a sheet named 'Footnotes' (for the as-of date)" in result.reason
    assert "'Detention FY26'" in result.reason  # what the workbook held instead
    assert not current_values(database)


def test_the_bundled_cbp_link_takes_the_newest_file_of_its_family_on_the_newer_page(tmp_path):
    """CBP's dataset page of 2026-10-03: the bundled `-state` pattern takes August's file in
    2026-09/, and nothing newer-looking is left out (August's AOR file is a re-upload,
    `…-aug-aor_0.csv`, of the same date: not newer)."""
    config = parse(tomllib.loads(starter_text()), tmp_path / "crossings.toml")
    source = config.sources["cbp-nationwide-encounters"]
    page = Page(
        "https://www.cbp.gov/document/stats/nationwide-encounters",
        (REAL / "cbp_document_stats_nationwide_encounters_2026-10-03_main.html").read_bytes(),
    )
    found = find_file(source, page)
    assert found.url == (
        "https://www.cbp.gov/sites/default/files/2026-09/nationwide-encounters-fy23-fy26-aug-state.csv"
    )
    assert found.text == "FY23 - FY26 (FYTD) Nationwide Encounters by State - August"
    assert found.newer is None
