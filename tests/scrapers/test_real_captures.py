"""Extractors on real captures (tests/fixtures/real/, see PROVENANCE.md there): the values
asserted are the ones the agencies published. And the ways real tables go wrong: header
rows without <th>, <br> inside headers, footnote marks, padded cells, '42 (4.66%)', a
table that is all '-', a sheet renamed, a PDF without the expected text."""

import dataclasses
import io
from pathlib import Path

import pytest

from scrapers.extract import LayoutError, Page, extract
from scrapers.extract.links import find_file
from scrapers.kinds.csvfile import CsvSource
from scrapers.kinds.pdf import Figure, PdfSource
from scrapers.kinds.table import TableSource
from scrapers.kinds.xlsx import XlsxSource

REAL = Path(__file__).parent.parent / "fixtures" / "real"
CUSTODY = "cbp_custody_and_transfer_statistics_page_2026-09-12.html"
ICE_URL = "https://www.ice.gov/doclib/detention/FY26_detentionStats_02122026.xlsx"
ICE_DATE = r"(?P<month>\d\d)(?P<day>\d\d)(?P<year>\d{4})\.xlsx$"


def real(name: str, url: str = "https://www.cbp.gov/page") -> Page:
    return Page(url, (REAL / name).read_bytes())


def values(extraction) -> dict[tuple[str, str], tuple[float, str, tuple[str, ...]]]:
    return {(o.metric, o.period): (o.value, o.unit, o.flags) for o in extraction.observations}


# -- HTML tables -------------------------------------------------------------------------


def test_cbp_custody_page_footnotes_padded_cells_and_counts_with_percents():
    custody = TableSource(
        name="cbp-custody", url="https://www.cbp.gov/page", caption="Southwest Border in Custody",
        metric="cbp.ofo.custody.{row}", percent_metric="cbp.ofo.custody.{row}.share",
    )  # fmt: skip
    found = values(extract(custody, real(CUSTODY)))
    assert found[("cbp.ofo.custody.in_custody_capacity", "2025-10")] == (902, "count", ())
    # "%<sup>2</sup>" row: 42 (4.66%), 47(5.21%), 54 (5.99%)&nbsp; - marks kept as flags
    assert found[("cbp.ofo.custody.percent", "2025-10")] == (42, "count", ("footnote:2",))
    assert found[("cbp.ofo.custody.percent.share", "2025-10")] == (4.66, "percent", ("footnote:2",))
    assert found[("cbp.ofo.custody.percent", "2026-02")][0] == 47
    assert found[("cbp.ofo.custody.percent.share", "2026-06")][0] == 5.99
    assert ("cbp.ofo.custody.percent", "2026-08") not in found  # "-": not published yet

    padded = TableSource(
        name="t8", url="https://www.cbp.gov/page", caption="Title 8 Inadmissibles",
        metric="cbp.ofo.title8.{row}",
    )  # fmt: skip
    found = values(extract(padded, real(CUSTODY)))
    assert found[("cbp.ofo.title8.el_paso", "2024-10")] == (7828, "count", ())

    fear = TableSource(
        name="fear", url="https://www.cbp.gov/page", caption="Inadmissibles by Disposition",
        metric="cbp.ofo.fear.{row}",
    )  # fmt: skip
    found = extract(fear, real(CUSTODY))
    ercf = values(found)[("cbp.ofo.fear.expedited_removal_credible_fear_ercf", "2025-10")]
    assert ercf == (64, "count", ("footnote:1",))  # "<sup>1</sup>" left the label
    assert "Expedited Removal-Credible Fear (ERCF)" in found.layout.rows


def test_a_table_not_found_says_what_the_page_has():
    wrong = TableSource(name="x", url="https://www.cbp.gov/page", caption="Nope", metric="m.{row}")
    with pytest.raises(LayoutError) as caught:
        extract(wrong, real(CUSTODY))
    reason = str(caught.value)
    assert "expected a table titled 'Nope'" in reason
    assert "15 tables" in reason and "Title 8 Inadmissibles ['Field Office', 'Oct-24'" in reason


def test_a_table_whose_values_are_all_missing_is_a_note_not_a_failure():
    page = real(CUSTODY)
    october = page.body.replace(b"<td>902</td>", b"<td>-</td>")
    october = october.replace(b"42 (4.66%)", b"-").replace(b"48 (5.32%)", b"-")
    for text in (b"43 (4.77%)", b"41 (4.55%)", b"47(5.21%)", b"47 (5.21%)", b"60 (6.65%)",
                 b"57 (6.32%)&nbsp;", b"57 (6.32%)", b"54 (5.99%)&nbsp;"):  # fmt: skip
        october = october.replace(text, b"-")
    custody = TableSource(
        name="cbp-custody", url=page.url, caption="Southwest Border in Custody",
        metric="cbp.ofo.custody.{row}",
    )  # fmt: skip
    found = extract(custody, Page(page.url, october))
    assert found.observations == []
    assert (
        found.notes
        and "every value cell" in found.notes[0]
        and "nothing is published" in (found.notes[0])
    )
    assert found.layout.rows == ("In Custody Capacity", "%")


OLD_TRAC = b"""<html><body><p>Table 2. Immigration Court Outcomes</p>
<table border="1">
<tr><td><b>Outcome</b></td><td><b>FY 2019</b></td><td><b>FY 2020*</b></td></tr>
<tr><td>Removal Ordered</td><td>  160,125 </td><td>  100,051 </td></tr>
<tr><td>Administratively<br>Closed**</td><td>4,052</td><td>2,310</td></tr>
<tr><td>Relief Granted<sup>1</sup></td><td>27,128</td><td>21,012</td></tr>
</table></body></html>"""


def test_old_trac_tables_header_without_th_br_in_labels_and_marks_as_flags():
    source = TableSource(
        name="trac-outcomes", url="https://tracreports.org/immigration/reports/600/",
        caption="Table 2.", columns=["Outcome"], metric="trac.outcomes.{row}",
    )  # fmt: skip
    found = extract(source, Page(source.url, OLD_TRAC))
    got = values(found)
    assert got[("trac.outcomes.removal_ordered", "FY2019")] == (160125, "count", ())
    assert got[("trac.outcomes.administratively_closed", "FY2020")] == (
        2310, "count", ("partial", "footnote:*", "footnote:**"),
    )  # fmt: skip
    assert got[("trac.outcomes.relief_granted", "FY2019")][2] == ("footnote:1",)
    assert found.layout.rows == ("Removal Ordered", "Administratively Closed", "Relief Granted")

    one_header_row = dataclasses.replace(source, header_rows=1)
    assert values(extract(one_header_row, Page(source.url, OLD_TRAC))) == got
    plain = OLD_TRAC.replace(b"<b>", b"").replace(b"</b>", b"")  # still found: non-numeric row
    assert values(extract(source, Page(source.url, plain))) == got


# -- xlsx --------------------------------------------------------------------------------


def ice(**changes) -> XlsxSource:
    keys = {
        "name": "ice-detention", "url": ICE_URL, "sheet": "Detention FY*",
        "table_title": "ICE Currently Detained by Criminality and Arresting Agency",
        "periods": "as_of", "as_of": "file", "as_of_regex": ICE_DATE,
        "metric": "ice.detained.{row}.{column}",
    }  # fmt: skip
    return XlsxSource(**{**keys, **changes})


def test_ice_detention_workbook_fy2026_currently_detained():
    found = values(extract(ice(), real("ice_detention_stats_fy2026_2026-02-12.xlsx", ICE_URL)))
    assert found[("ice.detained.total.total", "2026-02-12")] == (68289, "count", ())
    assert found[("ice.detained.total.ice", "2026-02-12")][0] == 57501
    assert found[("ice.detained.total.cbp", "2026-02-12")][0] == 10788
    assert found[("ice.detained.convicted_criminal.total", "2026-02-12")][0] == 18030
    share = found[("ice.detained.total.percent_ice", "2026-02-12")]  # a fraction in the file
    assert share[1] == "percent" and share[0] == pytest.approx(84.2024, abs=1e-3)


def test_ice_workbooks_of_other_years_sheet_names_and_order_differ():
    url = "https://www.ice.gov/doclib/detention/FY21_detention-stats_0301.xlsx"
    fy21 = ice(
        url=url, as_of_regex=r"FY(?P<year>\d\d)_detention-stats_(?P<month>\d\d)(?P<day>\d\d)"
    )
    found = values(extract(fy21, real("ice_detention_stats_fy2021_2021-03-01.xlsx", url)))
    assert (
        found[("ice.detained.total.total", "2021-03-01")][0] == 13529
    )  # sheet "Detention FY21 YTD"
    url = "https://www.ice.gov/doclib/detention/FY25_detentionStats09252025.xlsx"
    found = values(extract(ice(url=url), real("ice_detention_stats_fy2025_2025-09-25.xlsx", url)))
    assert found[("ice.detained.total.total", "2025-09-25")][0] == 59762


def test_several_tables_on_one_sheet_and_bare_month_columns():
    book_ins = ice(
        table_title="ICE Initial Book-Ins by Arresting Agency and Month", periods="columns",
        metric="ice.book_ins.{agency}",
    )  # fmt: skip
    found = values(extract(book_ins, real("ice_detention_stats_fy2026_2026-02-12.xlsx", ICE_URL)))
    assert found[("ice.book_ins.total", "2025-10")][0] == 41618  # "Oct" of FY2026
    assert found[("ice.book_ins.ice", "2026-01")][0] == 36099  # label "ICE  " stripped
    assert found[("ice.book_ins.cbp", "2026-02")][0] == 803


def test_outline_labels_blank_under_their_first_row_are_carried_down():
    book_outs = ice(
        table_title="ICE Final Book Outs by Release Reason", periods="columns",
        metric="ice.book_outs.{row}",
    )  # fmt: skip
    found = extract(book_outs, real("ice_detention_stats_fy2026_2026-02-12.xlsx", ICE_URL))
    got = values(found)
    assert got[("ice.book_outs.total", "2025-10")][0] == 37541
    assert got[("ice.book_outs.bonded_out.total", "2025-10")][0] == 1086
    assert got[("ice.book_outs.bonded_out.convicted_criminal", "2025-10")][0] == 115
    assert got[("ice.book_outs.bond_set_by_ice.other_immigration_violator", "2025-12")][0] == 77
    assert "Bonded Out / Pending Criminal Charges" in found.layout.rows


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"sheet": "Detention EOFY*"},
         ["expected a sheet named 'Detention EOFY*'", "'Detention FY26'", "'ICLOS and Detainees'"]),
        ({"table_title": "ICE Currently Detained by Gender"},
         ["expected a table titled 'ICE Currently Detained by Gender'", "Detention FY26",
          "ICE Currently Detained by Criminality and Arresting Agency: FY2026"]),
        ({"as_of_regex": r"(?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d)"},
         ["expected the as-of date", "in the file name", "FY26_detentionStats_02122026.xlsx"]),
    ],
)  # fmt: skip
def test_xlsx_drift_is_a_clear_layout_error(changes, mentions):
    with pytest.raises(LayoutError) as caught:
        extract(ice(**changes), real("ice_detention_stats_fy2026_2026-02-12.xlsx", ICE_URL))
    for mention in mentions:
        assert mention in str(caught.value), str(caught.value)


def test_not_a_workbook_is_a_layout_error():
    with pytest.raises(LayoutError, match="expected an Excel workbook"):
        extract(ice(), Page(ICE_URL, b"<html>Access denied</html>"))


def test_ohss_workbook_months_numbered_in_fiscal_order_and_line_breaks_in_headers():
    url = "https://ohss.dhs.gov/sites/default/files/KHSM%20Encounters%20(USBP)%20fy25m11.xlsx"
    page = real("cbp_usbp_khsm_encounters_fy25m11_2025-09.xlsx", url)
    monthly = XlsxSource(
        name="ohss-usbp", url=url, sheet="Monthly Region", periods="rows",
        period_column="Fiscal Year", month_column="Month", fiscal=True,
        metric="ohss.usbp.{region}.encounters",
    )  # fmt: skip
    found = values(extract(monthly, page))
    assert found[("ohss.usbp.southwest_land_border.encounters", "1999-10")][0] == 87820
    assert found[("ohss.usbp.southwest_land_border.encounters", "2024-11")][0] == 46610
    yearly = XlsxSource(
        name="ohss-usbp-fy", url=url, sheet="annual count", periods="rows",
        period_column="Fiscal Year", fiscal=True, metric="ohss.usbp.encounters.fy",
    )  # fmt: skip
    found = values(extract(yearly, page))
    assert found[("ohss.usbp.encounters.fy", "FY2000")][0] == 1590310  # header "Fiscal\nYear"
    assert found[("ohss.usbp.encounters.fy", "FY2024")][0] == 1557320


# -- CSV and its landing page --------------------------------------------------------------


def test_cbp_dataset_page_links_deduplicated_newest_with_link_text():
    page = real("cbp_document_stats_nationwide_encounters_csv_links_2026-09-06.html")
    source = CsvSource(
        name="cbp-nationwide", url=page.url, link=r"nationwide-encounters-fy\d+-fy\d+.*-aor\.csv$",
        metric="m", value="Encounter Count", year="Fiscal Year",
    )  # fmt: skip
    link = find_file(source, page)
    assert link.url.endswith("/2026-08/nationwide-encounters-fy23-fy26-jul-aor.csv")
    assert link.text == "FY23 - FY26 (FYTD) Nationwide Encounters by Area of Responsibility - July"


def test_cbp_nationwide_encounters_by_state_crlf_fytd_and_remaining():
    source = CsvSource(
        name="cbp-nationwide", url="https://www.cbp.gov/x.csv", metric="cbp.nationwide.encounters",
        value="Encounter Count", year="Fiscal Year", month="Month (abbv)",
    )  # fmt: skip
    found = values(
        extract(source, real("cbp_nationwide_encounters_fy23_fy26_nov_state_2025-12.csv"))
    )
    # Sums checked with the csv module by hand: "2026 (FYTD)" OCT, NOV; "2024" OCT.
    assert found[("cbp.nationwide.encounters", "2025-10")][0] == 30551
    assert found[("cbp.nationwide.encounters", "2025-11")][0] == 30375
    assert found[("cbp.nationwide.encounters", "2023-10")][0] == 309024


# -- pdf ---------------------------------------------------------------------------------


def made_pdf(lines: list[str], table: list[list[str]] | None = None) -> bytes:
    """A one-page PDF like EOIR's adjudication statistics (no real one could be had):
    a title, sentences, and a ruled table."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    out = io.BytesIO()
    styles = getSampleStyleSheet()
    story: list = [Paragraph(line, styles["Normal"]) for line in lines]
    if table:
        ruled = Table(table)
        ruled.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black")]))
        story.append(ruled)
    SimpleDocTemplate(out, pagesize=letter).build(story)
    return out.getvalue()


EOIR_LINES = [
    "Adjudication Statistics",
    "Pending Cases",
    "Data generated: January 14, 2026",
    "Pending cases: 3,546,863",
    "Table 2. Total Asylum Applications",
]
EOIR_TABLE = [
    ["Fiscal Year", "Asylum Applications"],
    ["FY 2023", "455,467"],
    ["FY 2024", "571,131"],
    ["FY 2025*", "241,012"],
]


def eoir(**changes) -> PdfSource:
    keys = {
        "name": "eoir-pending", "url": "https://www.justice.gov/eoir/media/1344791/dl",
        "as_of": "text", "as_of_regex": r"Data generated:\s*([A-Z][a-z]+ \d{1,2}, \d{4})",
        "figures": (Figure(metric="eoir.pending", regex=r"Pending cases:\s*([\d,]+)"),),
    }  # fmt: skip
    return PdfSource(**{**keys, **changes})


def test_pdf_figures_by_regex_and_a_table_by_title():
    page = Page("https://www.justice.gov/eoir/media/1344791/dl", made_pdf(EOIR_LINES, EOIR_TABLE))
    assert values(extract(eoir(), page)) == {("eoir.pending", "2026-01-14"): (3546863, "count", ())}
    table = eoir(
        figures=(), page=1, table_title="Total Asylum Applications", periods="rows",
        metric="eoir.asylum.applications",
    )  # fmt: skip
    found = values(extract(table, page))
    assert found[("eoir.asylum.applications", "FY2024")] == (571131, "count", ())
    assert found[("eoir.asylum.applications", "FY2025")][2] == ("partial", "footnote:*")


def test_pdf_without_the_expected_text_or_table_is_a_clear_layout_error():
    page = Page("https://www.justice.gov/eoir/media/1/dl", made_pdf([*EOIR_LINES[:3], "Closed"]))
    with pytest.raises(LayoutError) as caught:
        extract(eoir(), page)
    assert "expected text matching ['Pending cases:\\\\s*([\\\\d,]+)']" in str(caught.value)
    assert "Adjudication Statistics" in str(caught.value)  # what the page said instead
    table = eoir(figures=(), table_title="Total Asylum Applications", metric="eoir.x")
    with pytest.raises(LayoutError, match="expected a table titled 'Total Asylum Applications'"):
        extract(table, page)
    with pytest.raises(LayoutError, match="expected a PDF"):
        extract(eoir(), Page(page.url, b"<html>moved</html>"))
