"""`crossings inspect` on pages made here: a daily series, a page with nothing to read,
and the bad input a user meets (a refused or slow site, HTTP 403, a body that is not what
its address says, a page larger than the limit, a PDF of images, a workbook of 200 sheets,
a file that is not there): one line saying what happened and what to try, never a
traceback, nothing written."""

import io
import zipfile
from pathlib import Path

import pytest

from tests.commands import crossings
from tests.scrapers.server import Route, Site

REAL = Path(__file__).parent.parent / "fixtures" / "real"
DAILY = b"""<html><body><h2>Southwest border encounters per day</h2><table>
<tr><th>Date</th><th>Encounters</th></tr><tr><td>2024-06-01</td><td>3,100</td></tr>
<tr><td>2024-06-02</td><td>2,950</td></tr><tr><td>2024-06-03</td><td>3,020</td></tr>
</table></body></html>"""
NOTHING = b"""<html><body><table><tr><td>Contact</td><td>Phone</td></tr></table>
<table><tr><th>Office</th><th>Address</th></tr><tr><td>HQ</td><td>Main St</td></tr></table>
<table><tr><th>Name</th></tr><tr><td>Report</td></tr></table></body></html>"""


@pytest.fixture
def site():
    served = Site()
    yield served
    served.close()


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "crossings.toml"
    path.write_text(
        f'[settings]\ndatabase = "{tmp_path / "c.db"}"\ndownload_delay = 0\n'
        "timeout = 1\nretries = 0\nmax_body_mb = 1\n"
    )
    return path


def test_a_daily_date_column_is_proposed_as_a_daily_series(site, config):
    site.routes["/daily"] = Route(DAILY)
    shown = crossings(config, "inspect", f"{site.url}/daily", "--name", "swb-daily")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "periods in rows (daily), column 'Date': 2024-06-01, 2024-06-02, 2024-06-03" in (
        shown.stdout
    )
    assert 'periods = "rows"\nperiod_column = "Date"\nmetric = "swb.daily.{column}"' in (
        shown.stdout
    )
    assert "# would store 3 values: swb.daily.encounters 2024-06-01 = 3,100;" in shown.stdout


DAILY_CSV = (
    b"Date,Sector,Encounters\n2025-01-01,Tucson,120\n2025-01-01,El Paso,80\n"
    b"2025-01-02,Tucson,130\n2025-01-02,El Paso,95\n"
)


def test_a_csv_with_a_date_column_is_proposed_as_a_daily_series_and_crawls(site, config):
    site.routes["/daily.csv"] = Route(DAILY_CSV, content_type="text/csv")
    url = f"{site.url}/daily.csv"
    shown = crossings(config, "inspect", url, "--name", "daily", "--pick", "1", "--write",
                      str(config))  # fmt: skip
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert 'date = "Date"' in shown.stdout and "year =" not in shown.stdout, shown.stdout
    assert "2025-01-01 = 200" in shown.stdout and "2025-01-02 = 225" in shown.stdout
    assert crossings(config, "check").returncode == 0
    crawled = crossings(config, "crawl", "daily", "--no-alerts")
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr
    series = crossings(config, "series", "daily")
    assert "2025-01-02" in series.stdout and "225" in series.stdout, series.stdout + series.stderr


def test_a_page_with_nothing_readable_says_so_in_one_line_with_what_it_saw(site, config):
    site.routes["/nothing"] = Route(NOTHING)
    shown = crossings(config, "inspect", f"{site.url}/nothing")
    assert shown.returncode == 1
    assert shown.stdout.splitlines()[-1] == (
        f"nothing crossings can read at {site.url}/nothing: it saw 3 tables, none with "
        "numbers; 0 data links"
    )


def test_write_appends_the_picked_block_and_check_accepts_it(site, config):
    site.routes["/daily"] = Route(DAILY)
    url = f"{site.url}/daily"
    written = crossings(
        config, "inspect", url, "--pick", "1", "--name", "d", "--write", str(config)
    )
    assert written.returncode == 0, written.stdout + written.stderr
    assert "[sources.d]" in config.read_text()
    assert crossings(config, "check").returncode == 0
    again = crossings(config, "inspect", url, "--pick", "1", "--name", "d", "--write", str(config))
    assert again.returncode == 1
    assert "already has a source 'd': choose --name" in again.stderr
    assert config.read_text().count("[sources.d]") == 1


def _workbook(sheets: int) -> bytes:
    """A minimal .xlsx of empty sheets (the OOXML parts calamine needs)."""
    out = io.BytesIO()
    names = [f"Sheet{n}" for n in range(1, sheets + 1)]
    with zipfile.ZipFile(out, "w") as book:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for n in range(1, sheets + 1)
        )
        book.writestr("[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxml'
            'formats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}</Types>")  # fmt: skip
        book.writestr("_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>')  # fmt: skip
        book.writestr("xl/workbook.xml",
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets>'
            + "".join(f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>'
                      for n, name in enumerate(names, start=1))
            + "</sheets></workbook>")  # fmt: skip
        book.writestr("xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/'
                      'officeDocument/2006/relationships/worksheet" '
                      f'Target="worksheets/sheet{n}.xml"/>' for n in range(1, sheets + 1))
            + "</Relationships>")  # fmt: skip
        for n in range(1, sheets + 1):
            book.writestr(f"xl/worksheets/sheet{n}.xml",
                '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                'spreadsheetml/2006/main"><sheetData/></worksheet>')  # fmt: skip
    return out.getvalue()


def _pdf_of_images() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    drawing = canvas.Canvas(out)
    drawing.rect(100, 100, 300, 200, fill=1)  # a scanned page: shapes, no text
    drawing.showPage()
    drawing.save()
    return out.getvalue()


BAD = {  # path -> (route, the one line said, in part)
    "/private/stats": (Route(DAILY), "disallows"),  # the test site's robots.txt
    "/refused": (None, "refused the connection; check the address and this machine's network"),
    "/slow": (Route(b"<html></html>", delay=3), "no answer from"),
    "/forbidden": (Route(b"", failures=[(403, {})]),
                   "answered HTTP 403; the site refuses this agent: try --user-agent or --header"),
    "/data.xlsx": (Route(b"<html><body>Please log in</body></html>",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                   "is an HTML page, not an Excel workbook as its address or Content-Type says"),
    "/large": (Route(b"<html>" + b"x" * (2 * 1024 * 1024) + b"</html>"), "MB"),
    "/scan.pdf": (Route(_pdf_of_images(), "application/pdf"),
                  "has no text layer (1 pages of images, scanned?)"),
    "/many.xlsx": (Route(_workbook(200),
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                   "it saw 200 sheets, the first 60 read (60 without a table)"),
}  # fmt: skip


@pytest.mark.parametrize("path", BAD)
def test_bad_input_is_one_line_saying_what_happened_and_what_to_try(site, config, path):
    route, said = BAD[path]
    if route is not None:
        site.routes[path] = route
    url = f"{site.url}{path}" if path != "/refused" else "http://127.0.0.1:9/refused"
    before = config.read_text()
    shown = crossings(config, "inspect", url, "--write", str(config))
    assert shown.returncode == 1
    output = (shown.stdout + shown.stderr).strip()
    assert "Traceback" not in output
    assert said in output, output
    assert config.read_text() == before  # nothing written
    if path not in ("/many.xlsx",):
        assert len(shown.stderr.strip().splitlines()) == 1 and not shown.stdout, output


def test_the_request_says_who_asks_and_sends_the_headers_given(site, config):
    site.routes["/daily"] = Route(DAILY)
    url = f"{site.url}/daily"
    assert crossings(config, "inspect", url).returncode == 0
    assert site.request_headers["/daily"]["User-Agent"].startswith(
        "Mozilla/5.0 (compatible; crossings/"
    )
    tried = crossings(config, "inspect", url, "--user-agent", "Research/1.0",
                      "--header", "Referer: https://example.org/stats")  # fmt: skip
    assert tried.returncode == 0
    assert site.request_headers["/daily"]["User-Agent"] == "Research/1.0"
    assert site.request_headers["/daily"]["Referer"] == "https://example.org/stats"


def test_a_family_of_files_is_named_with_its_newest_file(config):
    """CBP re-uploaded August's file as ...-aug-aor_0.csv in a 2026-09 folder beside July's
    2026-08 file: the family pattern keeps both, and the newest is August's."""
    page = REAL / "cbp_document_stats_nationwide_encounters_2026-10-03_main.html"
    shown = crossings(config, "inspect", str(page))
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "[1] 11 links to CSV files; newest: 'nationwide-encounters-fy23-fy26-aug-aor_0.csv'" in (
        shown.stdout
    )
    assert "link = '/nationwide-encounters-fy\\d+-fy\\d+-[A-Za-z]+-aor(?:_\\d)?\\.csv$'" in (
        shown.stdout
    )


def test_a_file_that_is_not_there_is_one_line(config, tmp_path):
    shown = crossings(config, "inspect", str(tmp_path / "missing.html"))
    assert shown.returncode == 1
    assert shown.stderr.strip() == (
        f"Error: {str(tmp_path / 'missing.html')!r} is neither a URL (http:// or https://) "
        "nor a file here"
    )
