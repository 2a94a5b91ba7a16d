"""Each kind's extractor over copies of the real pages (tests/fixtures), and the loud
failures that layout drift must cause. Pure functions: no server, no database."""

import dataclasses

import pytest

from jobs.demo.site import SITE
from scrapers.extract import LayoutError, Page, extract
from scrapers.extract.links import find_file
from scrapers.kinds.csvfile import CsvSource
from scrapers.kinds.facts import Fact, FactsSource
from scrapers.kinds.feed import FeedSource
from scrapers.kinds.jsondoc import JsonSource
from scrapers.kinds.listing import ListingSource
from scrapers.kinds.table import TableSource
from tests.scrapers.pages import page_bytes

URL = "https://example.org/page"


def page(name: str, url: str = URL) -> Page:
    return Page(url, page_bytes(name))


def values(extraction) -> dict[tuple[str, str], tuple[float, str, tuple[str, ...]]]:
    return {(o.metric, o.period): (o.value, o.unit, o.flags) for o in extraction.observations}


# -- table -------------------------------------------------------------------------------


def test_trac_report_table_by_caption_with_partial_year_and_total_row():
    source = TableSource(
        name="trac", url=URL, caption="Table 1.", columns=("Class", "Case Type"),
        metric="trac.completions.{row}",
    )  # fmt: skip
    found = values(extract(source, page("report-695.html")))
    assert found[("trac.completions.total_case_completions", "FY2022")] == (
        375842, "count", ("partial", "footnote:*"),
    )  # fmt: skip
    assert found[("trac.completions.deport.removal", "FY2017")] == (165334, "count", ())
    assert found[("trac.completions.other.withholding_of_removal", "FY2021")][0] == 803
    assert len(found) == 9 * 6  # 9 rows x 6 fiscal years; the "Annual Change" column is not one


def test_label_columns_are_placeholders_of_the_metric_template():
    source = TableSource(
        name="trac", url=URL, caption="Table 1.", metric="trac.{class}.{case_type}"
    )
    found = values(extract(source, page("report-695.html")))
    assert found[("trac.credible_reasonable_fear.credible_fear", "FY2019")][0] == 12190


def test_multi_row_header_group_rows_and_subtotals():
    source = TableSource(
        name="trac", url=URL, caption="Table 2.", metric="trac.closures.{column}.{row}"
    )
    found = values(extract(source, page("report-695.html")))
    assert found[("trac.closures.cases_closed.ordered_deported.removal_ordered", "2011-Q3")][0] == (
        28948
    )
    assert found[("trac.closures.percent.ordered_deported.removal_ordered", "2011-Q4")] == (
        50.8, "percent", (),
    )  # fmt: skip
    assert found[("trac.closures.cases_closed.ordered_deported.subtotal", "2011-Q4")][0] == 34362
    assert found[("trac.closures.cases_closed.allowed_to_stay_in_u_s.subtotal", "2011-Q3")][0] == (
        15830
    )
    assert found[("trac.closures.cases_closed.total", "2011-Q3")][0] == 51601
    assert not any("allowed_to_stay_in_u_s.total" in metric for metric, _ in found)


def test_cbp_monthly_table_with_not_yet_published_months():
    source = TableSource(name="cbp", url=URL, selector="table.usa-table", metric="cbp.{row}")
    found = values(extract(source, page("cbp-nationwide-encounters.html")))
    assert found[("cbp.southwest_border_total_apprehensions", "2025-06")][0] == 6068
    assert found[("cbp.southwest_border_total_apprehensions", "2024-10")][0] == 56520
    assert ("cbp.southwest_border_total_apprehensions", "2025-09") not in found  # "-"


def test_periods_down_the_rows():
    html = b"""<table id="d"><tr><th>Date</th><th>Encounters</th><th>Note</th></tr>
    <tr><td>May 27, 2024</td><td>3,600</td><td>x</td></tr>
    <tr><td>May 28, 2024</td><td>-</td><td>y</td></tr>
    <tr><td>Total</td><td>3,600</td><td></td></tr></table>"""
    source = TableSource(
        name="d", url=URL, selector="#d", periods="rows", period_column="Date",
        columns=("Encounters",), metric="demo.{column}",
    )  # fmt: skip
    assert values(extract(source, Page(URL, html))) == {
        ("demo.encounters", "2024-05-27"): (3600, "count", ())
    }


LAYOUT_DRIFT = [
    # what changed, source keys, the reason must mention
    ("selector", {"selector": "table#gone"}, ["table#gone", "found none"]),
    ("caption", {"caption": "Table 9."}, ["Table 9.", "found none"]),
    ("renamed column", {"caption": "Table 1.", "columns": ("Class", "Case Kind")},
     ["'Case Kind'", "Case Type"]),
    ("template", {"caption": "Table 1.", "metric": "trac.{court}"}, ["{court}", "{case_type}"]),
    ("duplicate metric", {"caption": "Table 1.", "metric": "trac.{class}"},
     ["both give", "{row}"]),
]  # fmt: skip


@pytest.mark.parametrize(("change", "keys", "mentions"), LAYOUT_DRIFT)
def test_table_layout_drift_is_a_clear_layout_error(change, keys, mentions):
    source = TableSource(name="trac-table", url=URL, **{"metric": "trac.{row}", **keys})
    with pytest.raises(LayoutError) as caught:
        extract(source, page("report-695.html"))
    reason = str(caught.value)
    assert reason.startswith("trac-table: ")
    for mention in mentions:
        assert mention in reason, (change, reason)


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        (b"<table><tr><th>Region</th><th>Oct-24</th></tr></table>", ["header", "data rows"]),
        (b"<table><tr><th>Region</th><th>Oct-24</th></tr><tr><td>SW</td><td>12 cases</td></tr>"
         b"</table>", ["'12 cases'", "row 'SW'", "Oct-24"]),
        (b"<table><tr><th>Region</th><th>Total</th></tr><tr><td>SW</td><td>1</td></tr></table>",
         ["period columns", "'Total'"]),
        (b"<p>no table here</p>", ["found none"]),
    ],
)  # fmt: skip
def test_empty_tables_and_unparseable_values_are_layout_errors(body, mentions):
    source = TableSource(name="cbp", url=URL, metric="cbp.{row}")
    with pytest.raises(LayoutError) as caught:
        extract(source, Page(URL, body))
    for mention in mentions:
        assert mention in str(caught.value)


# -- facts -------------------------------------------------------------------------------


def facts_source(**changes) -> FactsSource:
    facts = (
        Fact(metric="trac.backlog", selector="#card-eoir_backlog .text-5xl",
             card="#card-eoir_backlog"),
        Fact(metric="trac.detention.no_conviction", selector="#card-detention_nocrim .text-lg",
             regex=r"(\d[\d,]*) out of", card="#card-detention_nocrim"),
        Fact(metric="trac.detention.share", selector="//div[@id='card-detention_nocrim']"
             "/div[contains(@class, 'text-5xl')]", card="#card-detention_nocrim"),
    )  # fmt: skip
    return FactsSource(name="qf", url=URL, **{"facts": facts, **changes})


def test_quick_facts_each_dated_by_its_own_card():
    found = values(extract(facts_source(), page("quickfacts-eoir.html")))
    assert found == {
        ("trac.backlog", "2025-05-31"): (3546863, "count", ()),
        ("trac.detention.no_conviction", "2025-09-21"): (42755, "count", ()),
        ("trac.detention.share", "2025-09-21"): (71.5, "percent", ()),
    }


def test_quick_facts_by_month():
    found = values(extract(facts_source(period="month"), page("quickfacts-eoir.html")))
    assert ("trac.backlog", "2025-05") in found


def test_a_fact_whose_element_or_date_is_gone_is_a_layout_error():
    moved = facts_source(facts=(Fact(metric="trac.backlog", selector="#card-gone .text-5xl"),))
    with pytest.raises(LayoutError, match="#card-gone"):
        extract(moved, page("quickfacts-eoir.html"))
    undated = facts_source(period_regex=r"Figures as of (\w+ \d+, \d{4})")
    with pytest.raises(LayoutError, match=r"date of trac\.backlog"):
        extract(undated, page("quickfacts-eoir.html"))


# -- json --------------------------------------------------------------------------------


def test_trac_tool_json_with_numbers_as_strings():
    source = JsonSource(
        name="asylum", url=URL, records="timeline", period="fymon",
        values={"number": "trac.asylum.grants", "percent": "trac.asylum.grant_rate"},
    )  # fmt: skip
    found = values(extract(source, page("trac_asylum_graph.json")))
    assert found[("trac.asylum.grants", "2024-06")][0] == 2789  # "2,789"
    assert found[("trac.asylum.grants", "2024-12")][0] == 2098  # 2098
    assert found[("trac.asylum.grant_rate", "2024-08")][0] == 36.8
    assert len(found) == 16


def test_detention_json_with_us_dates_and_a_comment_object():
    source = JsonSource(
        name="detention", url=URL, period="date",
        values={"total_all": "trac.detention.total", "ice_all": "trac.detention.ice"},
    )  # fmt: skip
    found = values(extract(source, page("pop_agen_table.json")))
    assert found == {
        ("trac.detention.total", "2025-09-21"): (59762, "count", ()),
        ("trac.detention.ice", "2025-09-21"): (46015, "count", ()),
        ("trac.detention.total", "2025-09-07"): (58766, "count", ()),
        ("trac.detention.ice", "2025-09-07"): (44844, "count", ()),
    }


def test_renamed_json_keys_and_non_json_are_layout_errors():
    renamed = JsonSource(name="d", url=URL, period="date", values={"total": "x"})
    with pytest.raises(LayoutError, match=r"expected keys \['total'\].*'total_all'"):
        extract(renamed, page("pop_agen_table.json"))
    with pytest.raises(LayoutError, match="expected JSON"):
        extract(renamed, Page(URL, b"<html>maintenance</html>"))
    no_period = JsonSource(name="d", url=URL, period="day", values={"total_all": "x"})
    with pytest.raises(LayoutError, match="records with 'day'"):
        extract(no_period, page("pop_agen_table.json"))


# -- csv ---------------------------------------------------------------------------------

SBO = CsvSource(
    name="sbo", url=URL, metric="cbp.swb.usbp.encounters", value="Encounter Count",
    year="Fiscal Year", month="Month (abbv)", filters={"Component": "U.S. Border Patrol"},
)  # fmt: skip


def test_the_full_cbp_release_sums_to_the_published_figures():
    full = Page(URL, (SITE / "sbo-encounters-fy22-fy25-aug.csv").read_bytes())
    found = values(extract(SBO, full))
    assert found[("cbp.swb.usbp.encounters", "2024-06")][0] == 83532
    assert found[("cbp.swb.usbp.encounters", "2023-12")][0] == 249740
    assert found[("cbp.swb.usbp.encounters", "2025-08")][0] == 6321
    fy2024 = sum(v for (_, period), (v, _, _) in found.items() if "2023-10" <= period <= "2024-09")
    assert fy2024 == 1530523


def test_yearly_sums_by_group_with_the_open_fiscal_year_partial():
    source = CsvSource(
        name="aor", url=URL, metric="cbp.{component}.encounters", value="Encounter Count",
        year="Fiscal Year", filters={"Land Border Region": "Southwest Land Border"},
    )  # fmt: skip
    found = values(extract(source, page("cbp_nationwide_encounters_aor_excerpt.csv")))
    assert any(flags == ("partial",) and period == "FY2026" for (_, period), (_, _, flags) in
               found.items())  # fmt: skip
    assert all(metric.startswith("cbp.") and metric.endswith(".encounters") for metric, _ in found)
    assert ("cbp.u_s_border_patrol.encounters", "FY2020") in found


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"value": "Encounters"}, ["'Encounters'", "Encounter Count"]),
        ({"filters": {"Component": "Border Patrol"}}, ["no rows", "Border Patrol"]),
        ({"metric": "cbp.{sector}"}, ["'sector'"]),
    ],
)
def test_csv_drift_is_a_layout_error(changes, mentions):
    source = dataclasses.replace(SBO, **changes)
    with pytest.raises(LayoutError) as caught:
        extract(source, page("cbp_sbo_encounters_excerpt.csv"))
    for mention in mentions:
        assert mention in str(caught.value)


def test_the_newest_matching_link_is_chosen_on_a_listing_page():
    listing = b"""<a href="/sites/default/files/2024-10/sbo-encounters-fy21-fy24.csv">old</a>
    <a href="/sites/default/files/2025-09/sbo-encounters-fy22-fy25-aug.csv">new</a>
    <a href="/sites/default/files/2025-10/nationwide-encounters-fy22-fy25-aor.csv">other</a>
    <a href="/sites/default/files/assets/documents/2023-Nov/sbo-encounters-fy20-fy23.csv">x</a>"""
    source = dataclasses.replace(SBO, link=r"sbo-encounters-fy\d+-fy\d+.*\.csv")
    found = find_file(source, Page("https://www.cbp.gov/document/stats/x", listing))
    assert found.url == (
        "https://www.cbp.gov/sites/default/files/2025-09/sbo-encounters-fy22-fy25-aug.csv"
    )
    assert found.text == "new"
    with pytest.raises(LayoutError, match=r"expected a link matching .* found none"):
        find_file(source, Page(URL, b"<a href='/a.pdf'>pdf</a>"))


# -- feed and listing --------------------------------------------------------------------


def test_rss_items_with_escaped_html_rfc822_dates_and_guids_that_are_not_links():
    news = extract(FeedSource(name="dhs", url=URL), page("dhs-news-rss.xml")).news
    assert len(news) == 3
    first = news[0]
    assert first.title.startswith("FACT SHEET: President Biden")
    assert first.guid == "dhs:104201 at https://www.dhs.gov"
    assert first.url.startswith("https://www.dhs.gov/news/2024/07/24/")
    assert first.published_at == "2024-07-24T14:00:00.000000Z"
    assert "<p>" not in first.summary and "below 1,800 encounters per day" in first.summary


def test_atom_feeds_and_non_feeds():
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom"><title>EOIR</title>
    <entry><title type="html">Policy &lt;b&gt;Memo&lt;/b&gt;</title>
    <link href="https://example.org/memo"/><id>tag:example.org,2025:1</id>
    <updated>2025-06-27T10:00:00Z</updated><summary>Text</summary></entry></feed>"""
    news = extract(FeedSource(name="eoir", url=URL), Page(URL, atom)).news
    assert [(n.title, n.url, n.guid, n.published_at) for n in news] == [
        ("Policy Memo", "https://example.org/memo", "eoir:tag:example.org,2025:1",
         "2025-06-27T10:00:00.000000Z")
    ]  # fmt: skip
    with pytest.raises(LayoutError, match="expected an RSS or Atom feed"):
        extract(FeedSource(name="eoir", url=URL), Page(URL, b"<html><body>Moved</body></html>"))


def test_listing_items_by_css_selectors():
    source = ListingSource(
        name="whatsnew", url="https://tracreports.org/whatsnew/", items="ul.whatsnew > li",
        date_selector=".date", summary_selector=".summary",
    )  # fmt: skip
    listing = Page(source.url, (SITE / "whatsnew.html").read_bytes())
    news = extract(source, listing).news
    assert news[0].title == "Government Fails To Detain Noncitizens Referred to Immigration Court"
    assert news[0].url == "https://tracreports.org/whatsnew/email.250627.html"
    assert news[0].published_at == "2025-06-27T00:00:00.000000Z"
    assert "updated through the end of May 2025" in news[0].summary
    moved = ListingSource(name="whatsnew", url=URL, items="div.news-item")
    with pytest.raises(LayoutError, match=r"div\.news-item"):
        extract(moved, listing)
