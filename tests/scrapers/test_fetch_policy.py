"""The fetch policy both ways of fetching follow (scrapers.fetching), proven by real crawls
of a real local server where one site serves pages (Scrapy) and files (streamed): its
robots.txt is read once, a refusal (by robots.txt, or by a closed port) reads the same
either way, and with a delay no
two requests to the site overlap or come closer than `download_delay`, whichever way
either came. Plus the retry waits and the Retry-After cap."""

import logging
from itertools import pairwise
from urllib.parse import urlsplit

from core.checked import free_port
from jobs.runners.local import LocalRunner
from scrapers.fetching import MAX_RETRY_AFTER, FetchSettings, disallowed, refused, retry_wait
from tests.scrapers.pages import page_bytes
from tests.scrapers.server import Route, Site

TABLE = """
[sources.{name}]
kind = "table"
url = "{url}"
caption = "Table 1."
columns = ["Class", "Case Type"]
metric = "trac.{name}.{{row}}"
"""
CSV = """
[sources.{name}]
kind = "csv"
url = "{url}"
{link}
metric = "cbp.{name}.{{component}}"
value = "Encounter Count"
year = "Fiscal Year"
"""


def table(name: str, url: str) -> str:
    return TABLE.format(name=name, url=url)


def csv(name: str, url: str, link: str = "") -> str:
    return CSV.format(name=name, url=url, link=f"link = '{link}'" if link else "")


def crawl(tmp_path, settings: str, sources: str, names: list[str]) -> dict:
    config = tmp_path / "crossings.toml"
    config.write_text(f'[settings]\ndatabase = "crossings.db"\n{settings}\n{sources}')
    return {result.source: result for result in LocalRunner(config).crawl_sync(names)}


def test_robots_txt_is_read_once_and_both_ways_fail_in_the_same_words(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # the crawl child logs at the level of this process
    site = Site()
    nobody = f"http://127.0.0.1:{free_port()}"
    excerpt = page_bytes("cbp_sbo_encounters_excerpt.csv")
    site.routes.update({
        "/reports/695/": Route(page_bytes("report-695.html")),
        "/files/excerpt.csv": Route(excerpt, "text/csv"),
        "/files/listing.html": Route(b'<a href="/files/linked.csv">CSV</a>'),
        "/files/linked.csv": Route(excerpt, "text/csv"),
        "/private/report.html": Route(page_bytes("report-695.html")),
        "/files/private-listing.html": Route(b'<a href="/private/hidden.csv">CSV</a>'),
        "/private/hidden.csv": Route(excerpt, "text/csv"),
        "/files/gone-listing.html": Route(f'<a href="{nobody}/gone.csv">CSV</a>'.encode()),
    })  # fmt: skip
    try:
        results = crawl(
            tmp_path,
            "download_delay = 0\nretries = 1",
            table("page", f"{site.url}/reports/695/")
            + csv("file", f"{site.url}/files/excerpt.csv")
            + csv("linked", f"{site.url}/files/listing.html", r"linked\.csv$")
            + table("page-private", f"{site.url}/private/report.html")
            + csv("file-private", f"{site.url}/files/private-listing.html", r"hidden\.csv$")
            + table("page-gone", f"{nobody}/report.html")
            + csv("file-gone", f"{site.url}/files/gone-listing.html", r"gone\.csv$"),
            ["page", "file", "linked", "page-private", "file-private", "page-gone", "file-gone"],
        )
        good = ("page", "file", "linked")
        assert {name: results[name].status for name in good} == dict.fromkeys(good, "ok")
        assert site.hits["/files/linked.csv"] == 1  # the streamed path fetched its file
        assert site.hits["/robots.txt"] == 1
        # Scrapy refused the page, the streamed path the file, in the same words.
        for name, url in (
            ("page-private", f"{site.url}/private/report.html"),
            ("file-private", f"{site.url}/private/hidden.csv"),
        ):
            assert results[name].status == "failed"
            assert results[name].reason == f"{name}: {disallowed(url)}"
            assert site.hits[urlsplit(url).path] == 0
        # Nobody listens: Scrapy met it for the page, the streamed path for the file.
        for name, url in (
            ("page-gone", f"{nobody}/report.html"),
            ("file-gone", f"{nobody}/gone.csv"),
        ):
            assert results[name].status == "failed"
            assert results[name].reason == f"{name}: {refused(url, 1)}"
        # The unreachable robots.txt is one line in the crawl's log, not two tracebacks.
        robots_log = [r for r in caplog.records if r.name.endswith(".robotstxt")]
        [unread] = [r for r in robots_log if r.levelno >= logging.INFO]
        assert (unread.levelname, unread.exc_text) == ("INFO", None)
        assert f"robots.txt for {nobody}/report.html could not be read" in unread.getMessage()
    finally:
        site.close()


DELAY = 1.0


def test_a_site_gets_one_request_at_a_time_spaced_by_the_delay_both_ways(tmp_path):
    """The page fails twice (500) and is retried, so its tries fall before and after the
    streamed download, which the server answers slowly."""
    site = Site()
    site.routes.update({
        "/reports/695/": Route(page_bytes("report-695.html"), failures=[(500, {}), (500, {})]),
        "/files/excerpt.csv": Route(
            page_bytes("cbp_sbo_encounters_excerpt.csv"), "text/csv", delay=DELAY
        ),
    })  # fmt: skip
    try:
        results = crawl(
            tmp_path,
            f"download_delay = {DELAY}\ntimeout = 10\nretries = 2",
            table("page", f"{site.url}/reports/695/")
            + csv("file", f"{site.url}/files/excerpt.csv"),
            ["page", "file"],
        )
        assert {name: result.status for name, result in results.items()} == {
            "page": "ok",
            "file": "ok",
        }
        visits = sorted(site.visits, key=lambda visit: visit.start)
        streamed = [(v.method, v.path) == ("GET", "/files/excerpt.csv") for v in visits]
        assert streamed.count(True) == 1 and site.hits["/reports/695/"] == 3
        assert {(True, False), (False, True)} <= set(pairwise(streamed)), visits  # both orders
        for before, after in pairwise(visits):
            assert after.start - before.end >= DELAY, (before, after)
    finally:
        site.close()


def test_retries_back_off_honour_retry_after_and_stop():
    fetch = FetchSettings(retries=2, retry_backoff=0.5)
    assert [retry_wait(fetch, tries, None) for tries in range(3)] == [0.5, 1.0, None]
    assert retry_wait(fetch, 0, 7.0) == 7.0
    assert retry_wait(fetch, 0, MAX_RETRY_AFTER + 1) is None  # fail now, do not wait
