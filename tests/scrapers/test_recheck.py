"""The re-check (scrapers.recheck): a crawl asks the pages it has seen before again with
conditional GETs outside Scrapy. What it stores is what the spider stores for the same
answers (compared with a crawl of the same database forced through the spider), a
changed page costs one request, a crawl with nothing left for Scrapy never imports it,
and the fetch policy holds: robots.txt, redirects, retries (500, 429 with Retry-After),
the timeout, the body limit, a DNS failure tried once, and a crawl cut short."""

import contextlib
import gzip
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import scrapers.crawl
from jobs.config import load_sources
from jobs.runners.child import crawl_here
from jobs.runners.local import LocalRunner
from scrapers.fetching import (
    DEFAULT_HEADERS,
    disallowed,
    http_error,
    no_answer,
    too_large,
    unresolved,
)
from storage import Store
from tests.configs import TRAC_FACTS, TRAC_TABLE, settings
from tests.scrapers.pages import page_bytes
from tests.scrapers.server import Route, Site
from tests.serving import LocalServer, QuietHandler, running

SOURCES = (
    TRAC_TABLE
    + TRAC_FACTS
    + """
[sources.json]
kind = "json"
url = "{url}/phptools/asylum/graph.php"
records = "timeline"
period = "fymon"
[sources.json.values]
number = "trac.asylum.grants"

[sources.feed]
kind = "feed"
url = "{url}/news/rss.xml"

[sources.plain]
kind = "table"
url = "{url}/plain/report.html"
caption = "Table 1."
columns = ["Class", "Case Type"]
metric = "trac.plain.{{row}}"

[sources.csv-listing]
kind = "csv"
url = "{url}/document/stats/southwest"
link = 'excerpt\\.csv$'
metric = "cbp.swb.{{component}}.fy"
value = "Encounter Count"
year = "Fiscal Year"
"""
)
PAGES = ["table", "facts", "json", "feed", "plain"]  # re-checked (plain: no validators)
ALL = [*PAGES, "csv-listing"]  # a file via a listing: Scrapy's
PATHS = {"table": "/reports/695/", "facts": "/quickfacts/eoir.html",
         "json": "/phptools/asylum/graph.php", "feed": "/news/rss.xml",
         "plain": "/plain/report.html"}  # fmt: skip
# The spider's path for every source: what the crawl did before the re-check existed.
SPIDER_ONLY = (
    "import sys, scrapers.crawl; scrapers.crawl.checkable = lambda run, recorder: None; "
    "from jobs.runners.child import main; sys.exit(main(sys.argv[1:]))"
)
NO_SCRAPY = (
    "import sys; from jobs.runners.child import main; main(sys.argv[1:]); "
    "print(sorted({m.split('.')[0] for m in sys.modules} & {'scrapy', 'twisted'}), file=sys.stderr)"
)


def routes() -> dict[str, Route]:
    return {
        "/reports/695/": Route(page_bytes("report-695.html")),
        "/quickfacts/eoir.html": Route(page_bytes("quickfacts-eoir.html")),
        "/phptools/asylum/graph.php": Route(
            page_bytes("trac_asylum_graph.json"), "application/json"
        ),
        "/news/rss.xml": Route(page_bytes("dhs-news-rss.xml"), "application/rss+xml"),
        "/plain/report.html": Route(page_bytes("report-695.html"), conditional=False),
        "/document/stats/southwest": Route(b'<a href="/files/excerpt.csv">CSV</a>'),
        "/files/excerpt.csv": Route(page_bytes("cbp_sbo_encounters_excerpt.csv"), "text/csv"),
    }


@pytest.fixture
def site():
    served = Site()
    served.routes.update(routes())
    yield served
    served.close()


def first_crawl(folder: Path, site: Site, names: list[str], **keys: object) -> Path:
    """A config in `folder` and its first crawl (through the spider: nothing stored yet)."""
    folder.mkdir(exist_ok=True)
    config = folder / "crossings.toml"
    keys = {"timeout": 2, "retries": 1, "max_body_mb": 1, **keys}
    config.write_text(settings(**keys) + SOURCES.format(url=site.url))
    first = {r.source: r for r in LocalRunner(config).crawl_sync(names)}
    assert {name: first[name].status for name in names} == dict.fromkeys(names, "ok")
    return config


def child(config: Path, names: list[str], code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, "--config", str(config), *names],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip


def rows(database: Path, after_run: int) -> dict:
    """What a crawl stored, without ids and times."""
    with Store(database, read_only=True) as store:
        query = store.db.query
        return {
            "runs": [tuple(r.values()) for r in query(
                "SELECT source, status, reason, notice, values_new, values_revised,"
                " values_unchanged, news_new, requests, bytes FROM runs WHERE id > ?"
                " ORDER BY source", (after_run,))],
            "snapshots": [tuple(r.values()) for r in query(
                "SELECT source, url, http_status, content_type, etag, last_modified, sha256,"
                " size FROM snapshots WHERE run_id > ? ORDER BY source, url", (after_run,))],
            "observations": [tuple(r.values()) for r in query(
                "SELECT metric, period, value, flags, superseded_at IS NULL FROM observations"
                " ORDER BY metric, period, value")],
            "bodies": store.snapshots.counts()["bodies"],
            "news": len(store.news.search(limit=1000)),
        }  # fmt: skip


def last_run(database: Path) -> int:
    with Store(database, read_only=True) as store:
        return next(iter(store.db.query("SELECT max(id) AS id FROM runs")))["id"]


@pytest.mark.parametrize("changed", [False, True], ids=["unchanged", "changed"])
def test_a_second_crawl_stores_what_the_spider_stores(tmp_path, site, changed):
    config = first_crawl(tmp_path / "recheck", site, ALL)
    spider = tmp_path / "spider"
    shutil.copytree(config.parent, spider)
    after = last_run(config.parent / "crossings.db")
    if changed:
        table = site.routes["/reports/695/"]
        table.body = table.body.replace(b"165,334", b"165,335")
        feed = site.routes["/news/rss.xml"]
        feed.body = feed.body.replace(b"<item>", b"<item><title>New</title>", 1)
    before = dict(site.hits)
    out = child(config, ALL, NO_SCRAPY)
    hits = {path: site.hits[path] - before.get(path, 0) for path in PATHS.values()}
    assert hits == dict.fromkeys(PATHS.values(), 1)  # a changed page is not fetched again
    assert site.hits["/robots.txt"] - before["/robots.txt"] == 1  # read once, both ways
    assert out.stderr.strip().endswith("['scrapy', 'twisted']")  # the listing was Scrapy's
    child(spider / "crossings.toml", ALL, SPIDER_ONLY)
    recheck, spidered = (
        rows(config.parent / "crossings.db", after),
        rows(spider / "crossings.db", after),
    )
    assert recheck == spidered
    statuses = {run[0]: run[1] for run in recheck["runs"]}
    expected = dict.fromkeys(ALL, "unchanged")
    if changed:
        expected.update(table="ok", feed="ok")
    assert statuses == expected
    assert any(snapshot[2] == 304 for snapshot in recheck["snapshots"])


def test_a_crawl_with_nothing_left_for_scrapy_does_not_import_it(tmp_path, site):
    config = first_crawl(tmp_path, site, PAGES)
    out = child(config, PAGES, NO_SCRAPY)
    assert out.stderr.strip().endswith("[]"), out.stderr
    with Store(tmp_path / "crossings.db", read_only=True) as store:
        runs = [store.runs.recent(name, limit=1)[0] for name in PAGES]
    assert [run.status for run in runs] == ["unchanged"] * len(PAGES)
    assert all(run.requests == 1 for run in runs)
    # a 304 brings no body; the page without validators came whole, the same bytes
    assert [run.bytes == 0 for run in runs] == [name != "plain" for name in PAGES]


# -- the fetch policy, with the spider ruled out --------------------------------------------


@pytest.fixture
def recrawl(tmp_path, site, monkeypatch):
    """After a first crawl of `table`, crawl it again in this process: `_scrapy` fails
    the test, so everything below happened in the re-check."""
    config = first_crawl(tmp_path, site, ["table"])

    def no_spider(*args: object, **kwargs: object) -> None:
        raise AssertionError("the spider was started")

    monkeypatch.setattr(scrapers.crawl, "_scrapy", no_spider)

    def again(time_limit: float | None = None, on_started=lambda runs: None):
        loaded = load_sources(config, ["table"])
        [run] = crawl_here(
            loaded, ["table"], trigger="manual", time_limit=time_limit, on_started=on_started
        )
        return run

    return again


def hits_during(site: Site, path: str, crawl) -> tuple[object, int]:
    before = site.hits[path]
    run = crawl()
    return run, site.hits[path] - before


def test_robots_txt_disallowing_the_page_is_obeyed(site, recrawl):
    site.routes["/robots.txt"].body = b"User-agent: *\nDisallow: /reports/\n"
    run, hits = hits_during(site, "/reports/695/", recrawl)
    assert (run.status, run.reason) == (
        "failed",
        f"table: {disallowed(site.url + '/reports/695/')}",
    )
    assert hits == 0


def test_a_redirect_is_followed_and_asked_of_robots_txt(site, recrawl):
    site.routes["/reports/695/"].failures = [(301, {"Location": "/moved/695.html"})]
    site.routes["/moved/695.html"] = site.routes["/reports/695/"]
    run, hits = hits_during(site, "/moved/695.html", recrawl)
    assert (run.status, run.requests, hits) == ("unchanged", 2, 1)
    site.routes["/reports/695/"].failures = [(301, {"Location": "/private/695.html"})]
    run = recrawl()
    assert (run.status, run.reason) == (
        "failed",
        f"table: {disallowed(site.url + '/reports/695/')}",
    )
    assert site.hits["/private/695.html"] == 0


@pytest.mark.parametrize("failure", [(500, {}), (429, {"Retry-After": "1"})], ids=["500", "429"])
def test_a_busy_server_is_asked_again(site, recrawl, failure):
    site.routes["/reports/695/"].failures = [failure]
    run, hits = hits_during(site, "/reports/695/", recrawl)
    assert (run.status, run.requests, hits) == ("unchanged", 2, 2)


def test_a_server_still_failing_after_the_retries_fails_the_run(site, recrawl):
    site.routes["/reports/695/"].failures = [(503, {}), (503, {})]
    run, hits = hits_during(site, "/reports/695/", recrawl)
    assert (run.status, hits) == ("failed", 2)
    assert run.reason == f"table: {http_error(site.url + '/reports/695/', 503, 1)}"


def test_no_answer_within_the_timeout_is_retried_then_fails(tmp_path, site, recrawl):
    site.routes["/reports/695/"].delay = 3
    run, hits = hits_during(site, "/reports/695/", recrawl)
    settings_ = load_sources(tmp_path / "crossings.toml", []).settings
    assert (run.status, hits) == ("failed", 2)
    assert run.reason == f"table: {no_answer(site.url + '/reports/695/', settings_, 1)}"


def test_a_body_over_the_limit_is_refused(tmp_path, site, recrawl):
    site.routes["/reports/695/"].body = b"<table>" + b"<tr><td>x</td></tr>" * 100_000
    settings_ = load_sources(tmp_path / "crossings.toml", []).settings
    run = recrawl()
    assert (run.status, run.reason) == (
        "failed",
        f"table: {too_large(site.url + '/reports/695/', settings_)}",
    )


def test_a_host_that_cannot_be_found_is_tried_once(tmp_path, site, recrawl):
    url = "http://crossings-test.invalid/reports/695/"
    with Store(tmp_path / "crossings.db") as store:  # as if the page had been there once
        stored = store.snapshots.latest("table", site.url + "/reports/695/", with_body=True)
        store.snapshots.record(
            source="table", url=url, http_status=200, body=store.snapshots.body(stored.sha256),
            etag=stored.etag,
        )  # fmt: skip
    config = tmp_path / "crossings.toml"
    config.write_text(config.read_text().replace(site.url + "/reports/695/", url))
    run = recrawl()
    assert (run.status, run.reason, run.requests) == ("failed", f"table: {unresolved(url, 0)}", 1)


@pytest.mark.parametrize("how", ["time_limit", "SIGTERM"])
def test_a_crawl_cut_short_ends_its_runs_as_interrupted(site, recrawl, how):
    site.routes["/reports/695/"].delay = 1.5
    if how == "SIGTERM":  # sent once the crawl's handler is in place
        term = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
        run = recrawl(on_started=lambda runs: term.start())
    else:
        run = recrawl(time_limit=0.5)
    why = "SIGTERM" if how == "SIGTERM" else "it took longer than 0.5 s"
    assert run.status == "interrupted"
    assert run.reason.startswith(f"table: the crawl was stopped ({why}) before this source")


class Turning(QuietHandler):
    """Serves the report with an ETag, until `mode` turns it into trouble: a body trickled
    past the timeout, a gzip bomb past the body limit, a redirect loop."""

    mode = "page"

    def do_GET(self) -> None:
        page = page_bytes("report-695.html")
        if self.path == "/robots.txt":
            return self.reply(200, b"User-agent: *\nAllow: /\n", "text/plain")
        if self.mode == "page" or self.headers.get("If-None-Match") != '"v1"':
            return self.reply(200, page, "text/html", {"ETag": '"v1"'})
        if self.mode == "loop":
            return self.reply(302, b"", "text/html", {"Location": self.path})
        if self.mode == "bomb":
            bomb = gzip.compress(b"<html>" + b" " * 3_000_000 + b"</html>")
            return self.reply(200, bomb, "text/html", {"Content-Encoding": "gzip", "ETag": '"v2"'})
        self.send_response(200)  # trickle: a tenth of the page every half second
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        with contextlib.suppress(OSError):
            for start in range(0, len(page), len(page) // 10 + 1):
                self.wfile.write(page[start : start + len(page) // 10 + 1])
                self.wfile.flush()
                time.sleep(0.5)
        return None


@pytest.mark.parametrize("mode", ["trickle", "bomb", "loop"])
def test_trouble_reads_as_the_spider_tells_it(tmp_path, monkeypatch, mode):
    """The words of tests/scrapers/test_fetch_reasons.py, which the spider met."""
    monkeypatch.setattr(Turning, "mode", "page")
    with running(LocalServer(Turning)) as server:
        url = f"{server.base_url}/report.html"
        config = tmp_path / "crossings.toml"
        config.write_text(
            settings(timeout=2, retries=1, max_body_mb=1)
            + f'[sources.table]\nkind = "table"\nurl = "{url}"\ncaption = "Table 1."\n'
            + 'columns = ["Class", "Case Type"]\nmetric = "trac.t.{row}"\n'
        )
        [first] = LocalRunner(config).crawl_sync(["table"])
        assert first.status == "ok"
        monkeypatch.setattr(Turning, "mode", mode)
        monkeypatch.setattr(scrapers.crawl, "_scrapy", None)  # the re-check's, or a TypeError
        [run] = crawl_here(load_sources(config, ["table"]), ["table"], trigger="manual")
    said = {
        "trickle": f"no answer from {url} within 2 s (after 1 retry)",
        "bomb": "larger than max_body_mb = 1 MB once decompressed",
        "loop": f"{url} redirects in a loop",
    }
    assert run.status == "failed"
    assert said[mode] in run.reason, run.reason


class Asked(QuietHandler):
    """Serves the report with an ETag and a cookie, and keeps the headers of each GET."""

    asked: list = []

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            return self.reply(200, b"User-agent: *\nAllow: /\n", "text/plain")
        Asked.asked.append(dict(self.headers))
        if self.headers.get("If-None-Match") == '"v1"':
            return self.reply(304, b"", "text/html", {"ETag": '"v1"'})
        page = page_bytes("report-695.html")
        return self.reply(200, page, "text/html", {"ETag": '"v1"', "Set-Cookie": "id=1; Path=/"})


def test_the_recheck_sends_the_headers_a_source_is_fetched_with(tmp_path, monkeypatch):
    """The source's User-Agent and headers, the default ones, the validators, compressed
    bodies accepted - and no cookie: crossings keeps none (nor does its spider)."""
    monkeypatch.setattr(Asked, "asked", [])
    with running(LocalServer(Asked)) as server:
        url = f"{server.base_url}/report.html"
        config = tmp_path / "crossings.toml"
        config.write_text(
            settings(timeout=2, retries=1)
            + f'[sources.table]\nkind = "table"\nurl = "{url}"\ncaption = "Table 1."\n'
            + 'columns = ["Class", "Case Type"]\nmetric = "trac.t.{row}"\n'
            + 'user_agent = "crossings-test/1"\nheaders = {"X-Token" = "t1"}\n'
        )
        [first] = LocalRunner(config).crawl_sync(["table"])
        assert first.status == "ok"
        monkeypatch.setattr(scrapers.crawl, "_scrapy", None)  # the re-check's, or a TypeError
        [run] = crawl_here(load_sources(config, ["table"]), ["table"], trigger="manual")
    assert run.status == "unchanged"
    sent = {name.lower(): value for name, value in Asked.asked[-1].items()}
    assert sent["user-agent"] == "crossings-test/1"
    assert sent["x-token"] == "t1"
    assert sent["accept"] == DEFAULT_HEADERS["Accept"]
    assert sent["accept-language"] == "en"
    assert sent["if-none-match"] == '"v1"'
    assert "gzip" in sent["accept-encoding"]
    assert "cookie" not in sent


def test_a_page_with_a_meta_refresh_is_left_to_scrapy(tmp_path, site):
    """Scrapy follows a meta refresh; the re-check hands such a page over rather than
    read it differently (one request more: the page it asked)."""
    refresh = (
        b'<html><head><meta http-equiv="refresh" content="0; url=/reports/695/"></head></html>'
    )
    site.routes["/refresh.html"] = Route(refresh)
    config = tmp_path / "crossings.toml"
    config.write_text(
        settings(timeout=2, retries=1)
        + SOURCES.format(url=site.url).replace("/plain/report.html", "/refresh.html")
    )
    [first] = LocalRunner(config).crawl_sync(["plain"])
    assert first.status == "ok" and site.hits["/refresh.html"] == 1
    [again] = LocalRunner(config).crawl_sync(["plain"])
    assert again.status == "unchanged"
    assert site.hits["/refresh.html"] == 3  # the re-check's, then Scrapy's
    assert site.conditional_hits["/reports/695/"] == 1  # Scrapy's, answered 304
