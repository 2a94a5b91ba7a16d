"""Real captures, round two (tests/fixtures/real/, PROVENANCE.md "Added 2026-12-06"): the
EOIR PDF read as a table, with its part-way year and header footnote digits; a PDF figure
regex that meets the title or the chart's axis is `broken`, never stored; the newest of a
link family on CBP's dataset page, re-uploads included, and a run that says so when a
newer-looking file was left out; part-way years as column headers; the as-of date from
another sheet of a workbook; a stock dated to the day its period ends."""

import re
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from scrapers.extract import LayoutError, Page, extract
from scrapers.extract.links import find_file, newest
from scrapers.kinds.csvfile import CsvSource
from scrapers.kinds.pdf import Figure, PdfSource
from scrapers.kinds.table import TableSource
from scrapers.kinds.xlsx import XlsxSource
from storage import Store
from tests.commands import crossings
from tests.scrapers.server import Route, Site

REAL = Path(__file__).parent.parent / "fixtures" / "real"
EOIR = (REAL / "EOIR_Pending_New_Completions_DataGenerated_2025-07-31.pdf").read_bytes()
EOIR_URL = "https://www.justice.gov/eoir/media/1344791/dl"
DATASET = (REAL / "cbp_document_stats_nationwide_encounters_2026-10-03_main.html").read_bytes()
DATASET_URL = "https://www.cbp.gov/document/stats/nationwide-encounters"
GENERATED = r"Data [Gg]enerated:?\s*([A-Z][a-z]+\.? \d{1,2},? \d{4})"


def values(extraction) -> dict[tuple[str, str], tuple[float, tuple[str, ...]]]:
    return {(o.metric, o.period): (o.value, o.flags) for o in extraction.observations}


def eoir_table() -> PdfSource:
    return PdfSource(
        name="eoir", url=EOIR_URL, page=1, periods="rows", period_column="FY", fiscal=True,
        table_title="Pending Cases, New Cases, and Total Completions", metric="eoir.{column}",
        columns=("FY", "Pending Cases", "Initial Receipts", "Total Completions"),
    )  # fmt: skip


def test_the_eoir_table_with_its_part_way_year_and_header_footnote_digits():
    found = values(extract(eoir_table(), Page(EOIR_URL, EOIR)))
    assert {metric for metric, _ in found} == {
        "eoir.pending_cases",
        "eoir.initial_receipts",
        "eoir.total_completions",
    }  # fmt: skip - "Pending Cases1": the 1 is a footnote, kept as a flag
    assert found[("eoir.pending_cases", "FY2024")] == (3884956, ("footnote:1",))
    assert found[("eoir.pending_cases", "FY2025")] == (
        3797662,
        ("partial", "through:Q3", "footnote:1"),
    )  # fmt: skip - "2025 (Third Quarter)"
    assert found[("eoir.total_completions", "FY2015")] == (143638, ("footnote:3",))
    assert len(found) == 33  # FY2015-FY2025, three columns


def test_a_figure_regex_meeting_the_title_is_broken_with_the_words_around_it():
    pending = PdfSource(
        name="eoir", url=EOIR_URL, as_of="text", as_of_regex=GENERATED,
        figures=(Figure(metric="eoir.pending", regex=r"Pending [Cc]ases:?\s*([\d,]+)"),),
    )  # fmt: skip
    with pytest.raises(LayoutError) as caught:
        extract(pending, Page(EOIR_URL, EOIR))
    said = str(caught.value)
    assert "found ','" in said and "Pending Cases, New Cases, and Total Completions" in said
    # Had the title no comma, the regex would meet the chart's axis label: broken too.
    with pytest.raises(LayoutError) as caught:
        extract(pending, Page(EOIR_URL, without_title_comma(EOIR)))
    said = str(caught.value)
    assert "matched '3,500,000'" in said and "axis" in said
    assert "4,000,000 Pending Cases 3,500,000 3,000,000" in said  # the words around it


def test_a_figure_anchored_on_the_table_row_reads_the_real_figure():
    anchored = PdfSource(
        name="eoir", url=EOIR_URL, as_of="text", as_of_regex=GENERATED,
        figures=(Figure(metric="eoir.pending", regex=r"\(Third ([\d,]+)"),),
    )  # fmt: skip
    assert values(extract(anchored, Page(EOIR_URL, EOIR))) == {
        ("eoir.pending", "2025-07-31"): (3797662, ()),
    }


def without_title_comma(pdf: bytes) -> bytes:
    """The real PDF with the comma after "Pending Cases" in its title blanked out: its
    content stream inflated, edited, deflated and put back at the same length."""
    drawn = b"(s)3.5 (,)]TJ"  # "Pending Cases," as the title's text operator draws it
    for match in re.finditer(rb"stream\r?\n", pdf):
        start = match.end()
        raw = pdf[start : pdf.index(b"endstream", start)].rstrip(b"\r\n")
        try:
            content = zlib.decompress(raw)
        except zlib.error:
            continue
        if drawn in content:
            packed = zlib.compress(content.replace(drawn, b"(s)3.5 ( )]TJ", 1), 9)
            assert len(packed) <= len(raw)
            return pdf[:start] + packed.ljust(len(raw), b"\n") + pdf[start + len(raw) :]
    raise AssertionError("the title's text operator is not in the PDF")


def test_header_digits_glued_to_words_are_footnotes_and_numbers_after_a_space_are_not():
    page = Page(
        "https://example.org/t",
        b"<table><tr><th>Year</th><th>MTRs1</th><th>Table 3</th><th>FY 2024</th></tr>"
        b"<tr><td>2024</td><td>5</td><td>6</td><td>7</td></tr></table>",
    )
    source = TableSource(
        name="t", url=page.url, periods="rows", metric="x.{column}",
        columns=("MTRs", "Table 3", "FY 2024"),
    )  # fmt: skip
    assert values(extract(source, page)) == {
        ("x.mtrs", "2024"): (5, ("footnote:1",)),
        ("x.table_3", "2024"): (6, ()),
        ("x.fy_2024", "2024"): (7, ()),
    }


# -- the newest of a link family ---------------------------------------------------------


def dataset_source(link: str) -> CsvSource:
    return CsvSource(
        name="cbp", url=DATASET_URL, link=link, metric="m", value="Encounter Count",
        year="Fiscal Year", month="Month (abbv)",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("link", "chosen"),
    [
        (r"nationwide-encounters-fy\d+-fy\d+.*-aor\.csv$",
         "2026-09/nationwide-encounters-fy23-fy26-aug-aor_0.csv"),
        (r"nationwide-encounters-fy\d+-fy\d+.*-state\.csv$",
         "2026-09/nationwide-encounters-fy23-fy26-aug-state.csv"),
    ],
)  # fmt: skip
def test_the_newest_of_a_family_on_the_real_dataset_page_re_uploads_included(link, chosen):
    found = find_file(dataset_source(link), Page(DATASET_URL, DATASET))
    assert found.url.endswith(chosen)
    assert found.newer is None


def test_a_choice_older_than_another_file_on_the_page_says_so():
    narrow = r"fy23-fy26-(oct|nov|dec|jan|feb|mar|apr|may|jun|jul)-aor\.csv$"
    found = find_file(dataset_source(narrow), Page(DATASET_URL, DATASET))
    assert found.url.endswith("2026-08/nationwide-encounters-fy23-fy26-jul-aor.csv")
    assert found.newer is not None
    assert "2026-09/nationwide-encounters-fy23-fy26-aug-aor_0.csv" in found.newer


def test_newest_orders_by_folder_then_name_then_re_upload():
    files = [
        "/files/2026-09/x-fy23-fy26-aug.csv",
        "/files/2026-09/x-fy23-fy26-aug_1.csv",
        "/files/2026-09/x-fy23-fy26-aug_0.csv",
        "/files/2026-08/x-fy23-fy26-jul.csv",
    ]
    assert newest(files) == "/files/2026-09/x-fy23-fy26-aug_1.csv"
    assert newest([*files[3:], "/files/2026-08/x-fy23-fy26-jun.csv"]).endswith("-jul.csv")
    assert newest(["/FY26_detentionStats01082026.xlsx", "/FY26_detentionStats_02122026.xlsx"]) == (
        "/FY26_detentionStats_02122026.xlsx"
    )


CSV_HEADER = b"Fiscal Year,Month (abbv),Encounter Count\n2026 (FYTD),JUL,100\n"
CONFIG = """[settings]
database = "crossings.db"
download_delay = 0
timeout = 5
retries = 0

[sources.aor]
kind = "csv"
url = "{url}/document/stats/nationwide-encounters"
link = '{link}'
metric = "cbp.aor.encounters"
value = "Encounter Count"
year = "Fiscal Year"
month = "Month (abbv)"

[channels.log]
kind = "console"

[rules.health]
kind = "source_health"
channels = ["log"]
"""


@pytest.fixture
def dataset_site():
    site = Site()
    site.routes["/document/stats/nationwide-encounters"] = Route(DATASET)
    yield site
    site.close()


def test_a_run_that_left_a_newer_looking_file_says_so_in_its_reason(dataset_site, tmp_path):
    dataset_site.routes[
        "/sites/default/files/2026-08/nationwide-encounters-fy23-fy26-jul-aor.csv"
    ] = Route(CSV_HEADER, "text/csv")
    config = tmp_path / "crossings.toml"
    narrow = r"fy23-fy26-(oct|nov|dec|jan|feb|mar|apr|may|jun|jul)-aor\.csv$"
    config.write_text(CONFIG.format(url=dataset_site.url, link=narrow))
    done = crossings(config, "crawl", "aor")
    assert done.returncode == 0, done.stdout + done.stderr
    with Store(tmp_path / "crossings.db", read_only=True) as store:
        run = next(iter(store.db.query("SELECT status, reason, notice FROM runs")))
    assert run["status"] == "ok"
    assert "fy23-fy26-aug-aor_0.csv, which looks newer" in run["reason"]
    assert run["notice"] == run["reason"]
    assert done.stdout.count("looks newer") == 2  # the run's reason, once; the alert
    assert "alert notice: [notice] health: run " in done.stdout  # the rule sends it


def test_a_newest_link_that_is_gone_is_a_failed_run_naming_it(dataset_site, tmp_path):
    config = tmp_path / "crossings.toml"
    config.write_text(CONFIG.format(url=dataset_site.url, link=r"-aor\.csv$"))
    done = crossings(config, "crawl", "aor")
    with Store(tmp_path / "crossings.db", read_only=True) as store:
        run = next(iter(store.db.query("SELECT status, reason FROM runs")))
        stored = store.db.execute("SELECT count(*) FROM observations").fetchone()[0]
    assert run["status"] == "failed", done.stdout
    assert (
        "nationwide-encounters-fy23-fy26-aug-aor_0.csv" in run["reason"] and "404" in run["reason"]
    )
    assert stored == 0


def test_a_stock_is_dated_to_the_last_day_of_its_part_way_year():
    source = replace(eoir_table(), rename={"Pending Cases": "pending"}, stocks=("pending",))
    found = values(extract(source, Page(EOIR_URL, EOIR)))
    assert found[("eoir.pending", "2025-06-30")] == (3797662, ("footnote:1",))  # Q3's end
    assert found[("eoir.pending", "2024-09-30")] == (3884956, ("footnote:1",))
    assert found[("eoir.initial_receipts", "FY2025")][0] == 448019  # a flow keeps its year


# -- the as-of date from another sheet -----------------------------------------------------

ICE_JANUARY = "https://www.ice.gov/doclib/detention/FY26_detentionStats01082026.xlsx"
SNAPSHOT = r"ICE National Docket data are a snapshot as (?:of )?(\d\d/\d\d/\d{4})"


def ice_january(**keys) -> XlsxSource:
    return XlsxSource(
        name="ice", url=ICE_JANUARY, sheet="Detention FY*", periods="as_of",
        table_title="ICE Currently Detained by Criminality and Arresting Agency",
        metric="ice.detained.{row}.{column}", as_of="text", as_of_sheet="Footnotes",
        as_of_regex=SNAPSHOT, **keys,
    )  # fmt: skip


@pytest.mark.parametrize("cell", ["", "B71"])
def test_the_as_of_date_from_the_footnotes_sheet_or_one_cell_of_it(cell):
    page = Page(ICE_JANUARY, (REAL / "ice_FY26_detentionStats01082026.xlsx").read_bytes())
    found = values(extract(ice_january(as_of_cell=cell), page))
    assert found[("ice.detained.total.total", "2026-01-07")] == (68990, ())  # not 01-08


def test_a_footnotes_sheet_without_the_date_is_broken_saying_where_it_looked():
    page = Page(ICE_JANUARY, (REAL / "ice_FY26_detentionStats01082026.xlsx").read_bytes())
    with pytest.raises(LayoutError) as caught:
        extract(ice_january(as_of_cell="A1"), page)
    assert "in cell A1 of sheet 'Footnotes'" in str(caught.value)
    assert "found no match in" in str(caught.value)


def test_part_way_years_as_column_headers_keep_their_quarter():
    page = Page(
        "https://example.org/t",
        b"<table><tr><th>Case Type</th><th>FY 2024</th><th>2025 (Second Quarter)</th>"
        b"<th>FY 2026 Q1</th></tr><tr><th>Removal</th><td>10</td><td>6</td><td>3</td></tr>"
        b"</table>",
    )
    source = TableSource(name="t", url=page.url, metric="x.{row}")
    assert values(extract(source, page)) == {
        ("x.removal", "FY2024"): (10, ()),
        ("x.removal", "FY2025"): (6, ("partial", "through:Q2")),
        ("x.removal", "FY2026"): (3, ("partial", "through:Q1")),
    }


def test_a_row_given_its_own_unit_is_published_with_it():
    custody = TableSource(
        name="custody", url="https://www.cbp.gov/page", metric="cbp.ofo.custody.{row}",
        rename={"%": "in_custody"}, units={"in_custody_capacity": "beds"}, unit="people",
    )  # fmt: skip
    assert custody.publishes() == {
        "cbp.ofo.custody.*": "people", "cbp.ofo.custody.in_custody_capacity": "beds",
    }  # fmt: skip
    custody = replace(custody, caption="Southwest Border in Custody")
    body = (REAL / "cbp_custody_and_transfer_statistics_page_2026-09-12.html").read_bytes()
    extraction = extract(custody, Page(custody.url, body))
    found = {(o.metric, o.period): (o.value, o.unit) for o in extraction.observations}
    assert found[("cbp.ofo.custody.in_custody_capacity", "2025-10")] == (902, "beds")
    assert found[("cbp.ofo.custody.in_custody", "2025-10")] == (42, "people")
