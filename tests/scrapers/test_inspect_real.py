"""`crossings inspect` on every real capture (and the older TRAC-style pages): the block
it proposes, appended with --write and crawled from a local server, stores the same values
as the bundled hand-written source (jobs/starter.toml) crawled from the same server - or,
where the bundled source is wrong today (EOIR's PDF), the numbers printed on the capture."""

import re
from pathlib import Path

import pytest

from jobs.demo.site import SITE
from jobs.runners.local import LocalRunner
from jobs.starter import starter_text
from storage import Store
from tests.commands import crossings
from tests.scrapers.server import Route, Site

FIXTURES = Path(__file__).parent.parent / "fixtures"
REAL = FIXTURES / "real"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ICE_FILE = "/doclib/detention/FY26_detentionStats_02122026.xlsx"
OHSS_FILE = "/sites/default/files/2025-09/KHSM%20Encounters%20(USBP)%20fy25m11.xlsx"
NATIONWIDE_FILE = "/sites/default/files/2026-08/nationwide-encounters-fy23-fy26-jul-state.csv"
EOIR = "/www.justice.gov/eoir/media/1344791/dl"

# case: (page served at `path` -> route, other routes, the words of the candidate to pick
# (then of the candidate inside the linked file), and the bundled source to match, or None)
CASES = {
    "custody": (
        "/www.cbp.gov/newsroom/stats/custody-and-transfer-statistics",
        Route((REAL / "cbp_custody_and_transfer_statistics_page_2026-09-12.html").read_bytes()),
        {}, ["Southwest Border in Custody"], "cbp-custody"),
    "newsroom": (
        "/www.cbp.gov/newsroom/stats/nationwide-encounters",
        Route((REAL / "cbp_newsroom_stats_nationwide_encounters_2026-10-03_main.html")
              .read_bytes()),
        {}, ["table 1"], "cbp-monthly-table"),
    "dataset-csv": (
        "/www.cbp.gov/document/stats/nationwide-encounters",
        Route((REAL / "cbp_document_stats_nationwide_encounters_csv_links_2026-09-06.html")
              .read_bytes()),
        {NATIONWIDE_FILE: Route(
            file=REAL / "cbp_nationwide_encounters_fy23_fy26_nov_state_2025-12.csv")},
        ["newest: 'nationwide-encounters-fy23-fy26-jul-state.csv'", "'Land Border Region'"],
        "cbp-nationwide-encounters"),
    "ice-workbook": (
        "/www.ice.gov/detain/detention-management",
        Route(f'<a href="{ICE_FILE}">FY2026 Detention Statistics</a>'.encode()),
        {ICE_FILE: Route((REAL / "ice_detention_stats_fy2026_2026-02-12.xlsx").read_bytes(),
                         XLSX)},
        ["XLSX", "ICE Currently Detained by Criminality and Arresting Agency"], "ice-detention"),
    "ohss-workbook": (
        "/ohss.dhs.gov/khsm/cbp-encounters",
        Route(f'<a href="{OHSS_FILE}">KHSM Encounters (USBP)</a>'.encode()),
        {OHSS_FILE: Route((REAL / "cbp_usbp_khsm_encounters_fy25m11_2025-09.xlsx").read_bytes(),
                          XLSX)},
        ["XLSX", "sheet 'Monthly Region'"], "ohss-usbp-encounters"),
    "eoir-pdf": (
        EOIR,
        Route((REAL / "EOIR_Pending_New_Completions_DataGenerated_2025-07-31.pdf").read_bytes(),
              "application/pdf"),
        {}, ["Pending Cases, New Cases"], None),
    "trac-json": (
        "/tracreports.org/immigration/detentionstats/pop_agen_table.json",
        Route((REAL / "trac_pop_agen_table_2026-07-11.json").read_bytes(), "application/json"),
        {}, ["JSON records"], "trac-detention"),
    "trac-report": (
        "/tracreports.org/reports/695/", Route((SITE / "report-695.html").read_bytes()),
        {}, ["Table 1."], "trac-completions"),
    "trac-quickfacts": (
        "/tracreports.org/immigration/quickfacts/eoir.html",
        Route((SITE / "quickfacts-eoir.html").read_bytes()),
        {}, ["figure cards"], "trac-quickfacts"),
    "trac-detention-quickfacts": (
        "/tracreports.org/immigration/quickfacts/detention.html",
        Route((FIXTURES / "trac_quickfacts_detention_described.html").read_bytes()),
        {}, ["figure cards"], "trac-detention-quickfacts"),
    "trac-whatsnew": (
        "/tracreports.org/whatsnew/", Route((SITE / "whatsnew.html").read_bytes()),
        {}, ["linked items"], "trac-whatsnew"),
    "dhs-feed": (
        "/www.dhs.gov/news/rss.xml",
        Route((SITE / "dhs-news-rss.xml").read_bytes(), "application/rss+xml"),
        {}, ["'DHS News'"], "dhs-news"),
}  # fmt: skip


def number_of(output: str, words: str) -> str:
    """The number of the listed candidate whose heading holds `words`."""
    for line in output.splitlines():
        if (found := re.match(r"\[([\d.]+)\] (.*)", line)) and words in found.group(2):
            return found.group(1)
    raise AssertionError(f"no candidate with {words!r} in:\n{output}")


def configured(site: Site, database: str) -> str:
    text = re.sub(r'url = "https://', f'url = "{site.url}/', starter_text())
    text = re.sub(r"(?m)^database = .*$", f'database = "{database}"', text)
    return re.sub(r"(?m)^download_delay = .*$", "download_delay = 0", text)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """Every case inspected and its pick written to one config; then the bundled sources
    and the proposed ones crawled, each into a database of its own."""
    folder = tmp_path_factory.mktemp("inspect")
    site = Site()
    for path, route, others, _, _ in CASES.values():
        site.routes[path] = route
        site.routes.update(others)
    bundled, proposed = folder / "bundled.toml", folder / "proposed.toml"
    bundled.write_text(configured(site, "bundled.db"))
    proposed.write_text(configured(site, "proposed.db"))
    said = {case: _propose(site, proposed, case) for case in CASES}  # what inspect said
    checked = crossings(proposed, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    names = [bundle for *_, bundle in CASES.values() if bundle]
    results = {r.source: r for r in LocalRunner(bundled).crawl_sync(names)}
    written = [f"p-{case}" for case, output in said.items() if "appended" in output]
    results |= {r.source: r for r in LocalRunner(proposed).crawl_sync(written)}
    yield results, said, folder
    site.close()


def _propose(site: Site, config: Path, case: str) -> str:
    """List the candidates (and those of the linked file), pick the one with the case's
    words, and append its block to the config; what inspect printed (a case whose page
    cannot be read fails its own test, not the others)."""
    path, _, _, picks, _ = CASES[case]
    url, pick = site.url + path, ""
    for words in picks:
        listed = crossings(config, "inspect", url, *(["--pick", pick] if pick else []))
        if listed.returncode:
            return listed.stdout + listed.stderr
        pick = number_of(listed.stdout, words)
    written = crossings(config, "inspect", url, "--pick", pick, "--name", f"p-{case}",
                        "--metric", f"p.{case}", "--write", str(config))  # fmt: skip
    return written.stdout + written.stderr


def series(database: Path, prefix: str = "") -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = {}
    with Store(database, read_only=True) as store:
        for row in store.db.query(
            "SELECT metric, period, value FROM observations WHERE superseded_at IS NULL"
        ):
            if row["metric"].startswith(prefix):
                found.setdefault(row["metric"], {})[row["period"]] = row["value"]
    return found


def news(database: Path, source: str) -> list[str]:
    with Store(database, read_only=True) as store:
        rows = store.db.query("SELECT title FROM news WHERE source = ?", [source])
        return sorted(row["title"] for row in rows)


@pytest.mark.parametrize("case", [case for case, spec in CASES.items() if spec[4]])
def test_the_proposed_block_stores_what_the_bundled_source_stores(crawled, case):
    results, said, folder = crawled
    bundle = CASES[case][4]
    assert results[bundle].status == "ok", results[bundle].reason
    assert f"p-{case}" in results, said[case]
    assert results[f"p-{case}"].status == "ok", (results[f"p-{case}"].reason, said[case])
    if case in ("dhs-feed", "trac-whatsnew"):  # news: the same items
        titles = news(folder / "proposed.db", f"p-{case}")
        assert titles and titles == news(folder / "bundled.db", bundle)
        return
    proposed = list(series(folder / "proposed.db", f"p.{case}").values())
    stored = {m: s for m, s in series(folder / "bundled.db").items() if not m.startswith("p.")}
    mine = {m: s for m, s in stored.items() if results[bundle].values_new and _of(m, bundle)}
    assert mine, f"the bundled {bundle} stored nothing"
    if bundle == "trac-detention":  # a difference of two keys: the proposal stores both
        mine.pop("trac.detention.no_conviction")
    if bundle == "ice-detention":
        # The same figures; the proposal dates them by the file's name (02122026), where
        # the bundled block may read the snapshot date ICE gives on its Footnotes sheet.
        proposed = [{"as of": value} for values in proposed for value in values.values()]
        mine = {m: {"as of": value} for m, values in mine.items() for value in values.values()}
    missing = [metric for metric, values in mine.items() if values not in proposed]
    assert not missing, f"{case}: the proposal lacks the series of {missing}\n{said[case]}"


def _of(metric: str, source: str) -> bool:
    """Whether a bundled metric belongs to the source (by the prefix its template gives)."""
    prefixes = {
        "cbp-custody": "cbp.ofo.custody.", "cbp-monthly-table": "cbp.table.",
        "cbp-nationwide-encounters": "cbp.nationwide.", "ice-detention": "ice.detained.",
        "ohss-usbp-encounters": "ohss.usbp.", "trac-detention": "trac.detention.",
        "trac-completions": "trac.completions.", "trac-quickfacts": "trac.court.",
        "trac-detention-quickfacts": "trac.quickfacts.",
    }  # fmt: skip
    return metric.startswith(prefixes[source])


def test_the_eoir_pdf_proposal_stores_the_pending_cases_printed_on_it(crawled):
    results, said, folder = crawled
    assert "p-eoir-pdf" in results, said["eoir-pdf"]
    assert results["p-eoir-pdf"].status == "ok", (results["p-eoir-pdf"].reason, said["eoir-pdf"])
    pending = [s for m, s in series(folder / "proposed.db", "p.eoir").items() if "pending" in m]
    assert pending == [pytest.approx(pending[0])]
    assert pending[0]["FY2024"] == 3_884_956
    assert pending[0]["FY2015"] == 658_871
