"""The pages over real HTTP: what they show, and that scraped content stays inert."""

import csv
import io
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests
from click.testing import CliRunner

from core.checked import free_port
from jobs.cli import cli
from jobs.config import load
from storage import Store
from tests.query.sample import BACKLOG, Sample, fill
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
        ("/series", [BACKLOG, "3,546,863", "-140,887", "-3.8%"]),
        ("/series?q=cbp.*", ["cbp.swb.usbp.encounters", "6,321"]),
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
    page = get(f"{site}/series/{BACKLOG}").text
    assert 'Latest: <strong class="value">3,546,863</strong> cases' in page
    assert 'for <strong class="nowrap">2025-05</strong>' in page
    assert "never revised" in page
    assert "was 3,685,200" in page  # February's revision, in the table and the history
    assert "fires above 3,600,000" in page  # the rule's levels, drawn on the chart
    assert "resolves below 3,000,000" in page


def test_metric_page_as_of_shows_what_was_published_then(site: str) -> None:
    page = get(f"{site}/series/{BACKLOG}?as_of=2025-04-01").text
    assert "3,685,200" in page
    assert "3,546,863" not in page
    bad = get(f"{site}/series/{BACKLOG}?as_of=someday").text
    assert "is not a date or time" in bad and "FY2025" in bad


def test_metric_csv_download(site: str) -> None:
    response = get(f"{site}/series/{BACKLOG}/values.csv")
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


@pytest.mark.parametrize("path", ["/series/no.such.metric", "/sources/nowhere", "/snapshots/999"])
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
        assert get(url + "/series").status_code == 200
    assert "No alert has fired yet." in overview
    assert "No values stored yet." in overview
    assert "No alert has fired yet." in alerts


def test_crossings_serve_serves_the_pages(tmp_path) -> None:
    (tmp_path / "crossings.toml").write_text('[settings]\ndatabase = "crossings.db"\n')
    with Store(tmp_path / "crossings.db") as store:
        fill(store)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jobs", "--config", str(tmp_path / "crossings.toml"), "serve",
         "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert b"read-only on http://127.0.0.1" in server.stdout.readline()
        page = None
        for _ in range(300):  # until it listens
            try:
                page = get(f"http://127.0.0.1:{port}/series/{BACKLOG}")
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert page is not None and "3,546,863" in page.text
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_rejects_a_bad_listen_address(sample: Sample) -> None:
    result = CliRunner().invoke(
        cli, ["--config", str(sample.config.path), "serve", "--listen", "localhost"]
    )
    assert result.exit_code == 2
    assert "is not HOST:PORT" in result.output
