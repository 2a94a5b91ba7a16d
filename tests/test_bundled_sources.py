"""The bundled config (jobs/starter.toml), crawled as it is - only its hosts moved to a
real local server - over real captures of each source's page or file. A bundled source
with no real capture must say `unverified = true`; it is then crawled over a page shaped
like the real one (a demo page, or one built from the page's described structure)."""

import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobs.cli import cli
from jobs.demo.site import SITE
from jobs.runners.local import LocalRunner
from jobs.starter import starter_text
from storage import Store
from tests.scrapers.server import Route, Site

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "real"
ICE_FILE = "/doclib/detention/FY26_detentionStats_02122026.xlsx"
OHSS_FILE = "/sites/default/files/2025-09/KHSM%20Encounters%20(USBP)%20fy25m11.xlsx"
NATIONWIDE_FILE = "/sites/default/files/2026-08/nationwide-encounters-fy23-fy26-jul-state.csv"
CUSTODY = "cbp_custody_and_transfer_statistics_page_2026-09-12.html"
SBO_FILE = "/sites/default/files/2025-09/sbo-encounters-fy22-fy25-aug.csv"

# Bundled source: what is served (path on the local server -> route), and values it must
# find there. Real captures unless the source is marked unverified.
VERIFIED = {
    "trac-detention": (
        {"/tracreports.org/immigration/detentionstats/pop_agen_table.json":
            Route((REAL / "trac_pop_agen_table_first8_2026-07.json").read_bytes(),
                  "application/json")},
        {("trac.detention.total", "2026-02-07"): 68289,
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
         ("cbp.ofo.custody.percent", "2025-10"): 42,
         ("cbp.ofo.custody.percent.share", "2025-10"): 4.66},
    ),
    "ice-detention": (
        {"/www.ice.gov/detain/detention-management":
            Route(f'<a href="{ICE_FILE}">FY2026 Detention Statistics</a>'.encode()),
         ICE_FILE: Route(file=REAL / "ice_detention_stats_fy2026_2026-02-12.xlsx")},
        {("ice.detained.total.total", "2026-02-12"): 68289,
         ("ice.detained.total.ice", "2026-02-12"): 57501,
         ("ice.detained.total.cbp", "2026-02-12"): 10788},
    ),
    "ohss-usbp-encounters": (
        {"/ohss.dhs.gov/khsm/cbp-encounters":
            Route(f'<a href="{OHSS_FILE}">KHSM Encounters (USBP)</a>'.encode()),
         OHSS_FILE: Route(
             file=REAL / "cbp_usbp_khsm_encounters_fy25m11_2025-09.xlsx")},
        {("ohss.usbp.southwest_land_border.encounters", "2024-11"): 46610},
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
    "cbp-monthly-table": ("/www.cbp.gov/newsroom/stats/nationwide-encounters",
                          SITE / "cbp-nationwide-encounters.html", ""),
    "dhs-news": ("/www.dhs.gov/news/rss.xml", SITE / "dhs-news-rss.xml", "application/rss+xml"),
}  # fmt: skip
NOT_CRAWLED = {  # unverified, and nothing shaped like them to serve: read in unit tests
    "eoir-pending": "a PDF made in tests/scrapers/test_real_captures.py",
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
    blocks = re.split(r"\n  (?=\S)", checked.output.split("\nRules (")[0])
    flagged = {block.split()[0] for block in blocks if "UNVERIFIED: no real copy" in block}
    assert flagged == set(SHAPED) | set(NOT_CRAWLED)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundled")
    site = Site()
    for routes, _ in VERIFIED.values():
        site.routes.update(routes)
    for path, file, content_type in SHAPED.values():
        site.routes[path] = Route(file.read_bytes(), content_type or "text/html; charset=utf-8")
    text = re.sub(r'url = "https://', f'url = "{site.url}/', starter_text())
    text = re.sub(r"(?m)^database = .*$", 'database = "crossings.db"', text)
    text = re.sub(r"(?m)^download_delay = .*$", "download_delay = 0", text)
    config = folder / "crossings.toml"
    config.write_text(text)
    names = [*VERIFIED, *SHAPED]
    results = {r.source: r for r in LocalRunner(config).crawl_sync(names)}
    yield results, folder / "crossings.db"
    site.close()


def test_bundled_sources_read_their_pages(crawled):
    results, database = crawled
    for name, result in results.items():
        assert result.status == "ok", (name, result.reason)
        assert result.values_new or result.news_new, name
    with Store(database, read_only=True) as store:
        rows = store.db.query(
            "SELECT metric, period, value FROM observations WHERE superseded_at IS NULL"
        )
        current = {(row["metric"], row["period"]): row["value"] for row in rows}
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
