"""The pages over real HTTP: what they show, and that scraped content stays inert."""

import csv
import io
from collections.abc import Iterator

import pytest
import requests

from jobs.config import load
from storage import Store
from tests.query.sample import BACKLOG, Sample
from tests.query.servers import serving


@pytest.fixture(scope="module")
def site(sample: Sample) -> Iterator[str]:
    with serving(sample.config) as url:
        yield url


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=30)


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/", ["TRAC", "broken", "table header &#39;Encounter Count&#39; not found",
               "backlog_high", "3,546,863"]),
        ("/metrics", [BACKLOG, "3,546,863", "-140,887 (-3.8%)"]),
        ("/metrics?q=cbp.*", ["cbp.swb.usbp.encounters", "6,321"]),
        ("/alerts", ["backlog_high", "3,685,200", "Backlog &lt;i&gt;3,685,200&lt;/i&gt; is at"]),
        ("/news?q=backlog", ["court backlog &lt;b&gt;falls&lt;/b&gt; as new cases drop"]),
        ("/sources/trac_quickfacts", ["/snapshots/2/raw", "?download=1", "ok"]),
        ("/snapshots/2", ["2025-05", "3,546,863", "3,687,750", "View as text"]),
    ],
)  # fmt: skip
def test_pages_show_their_data(site: str, path: str, shown: list[str]) -> None:
    response = get(site + path)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    for text in shown:
        assert text in response.text


def test_scraped_markup_is_escaped(site: str) -> None:
    page = get(site + "/news").text
    assert "<b>falls</b>" not in page


def test_metric_page_answers_the_backlog_question(site: str) -> None:
    page = get(f"{site}/metrics/{BACKLOG}").text
    assert 'Latest: <strong class="value">3,546,863</strong> cases' in page
    assert "for <strong>2025-05</strong>" in page
    assert "never revised" in page
    assert "was 3,685,200" in page  # February's revision, in the table and the history
    assert "backlog_high: above 3,600,000" in page  # the rule's threshold, drawn on the chart


def test_metric_page_as_of_shows_what_was_published_then(site: str) -> None:
    page = get(f"{site}/metrics/{BACKLOG}?as_of=2025-04-01").text
    assert "3,685,200" in page
    assert "3,546,863" not in page
    bad = get(f"{site}/metrics/{BACKLOG}?as_of=someday").text
    assert "is not a time" in bad


def test_metric_csv_download(site: str) -> None:
    response = get(f"{site}/metrics/{BACKLOG}/series.csv")
    assert (
        response.headers["Content-Disposition"] == 'attachment; filename="trac.court.backlog.csv"'
    )
    rows = {row["period"]: row for row in csv.DictReader(io.StringIO(response.text))}
    assert rows["2025-05"]["value"] == "3546863.0"
    assert rows["2025-02"]["replaced_value"] == "3685200.0"


def test_stored_html_is_never_served_as_html(site: str, sample: Sample) -> None:
    snapshot = sample.snapshot_ids["second"]
    raw = get(f"{site}/snapshots/{snapshot}/raw")
    assert raw.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert raw.headers["X-Content-Type-Options"] == "nosniff"
    assert raw.headers["Content-Security-Policy"].startswith("sandbox")
    assert raw.content.startswith(b"<html><head><script>")
    download = get(f"{site}/snapshots/{snapshot}/raw?download=1")
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="snapshot-{snapshot}-trac_quickfacts.html"'
    )


@pytest.mark.parametrize("path", ["/metrics/no.such.metric", "/sources/nowhere", "/snapshots/999"])
def test_unknown_things_are_404_pages(site: str, path: str) -> None:
    response = get(site + path)
    assert response.status_code == 404
    assert "Not found" in response.text


def test_no_database_yet_says_so(tmp_path) -> None:
    (tmp_path / "crossings.toml").write_text('[settings]\ndatabase = "later.db"\n')
    with serving(load(tmp_path / "crossings.toml")) as url:
        response = get(url + "/")
    assert response.status_code == 503
    assert "does not exist yet" in response.text


def test_pages_of_an_empty_database(tmp_path) -> None:
    (tmp_path / "crossings.toml").write_text('[settings]\ndatabase = "empty.db"\n')
    Store(tmp_path / "empty.db").close()
    with serving(load(tmp_path / "crossings.toml")) as url:
        overview, alerts = get(url + "/").text, get(url + "/alerts").text
        assert get(url + "/metrics").status_code == 200
    assert "No alert is firing." in overview
    assert "No values stored yet." in overview
    assert "No alert has fired yet." in alerts
