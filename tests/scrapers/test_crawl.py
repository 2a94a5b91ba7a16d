"""Crawls of every kind from a real local server, through the real crawl child: first
fetches, a 304 on the second pass, 429 with Retry-After, 500 then success, a timeout, an
oversized body, a robots.txt disallow, a 404, and layouts that change under a source
(the run is `broken`, says why, and nothing stored changes)."""

from pathlib import Path

import pytest

from jobs.demo.site import SITE
from jobs.runners.local import LocalRunner
from storage import Store
from tests.configs import TRAC_FACTS, TRAC_TABLE, settings
from tests.scrapers.pages import page_bytes
from tests.scrapers.server import Route, Site

SETTINGS = settings(timeout=2, retries=1, max_body_mb=1)
SOURCES = (
    TRAC_TABLE
    + TRAC_FACTS
    + """
[sources.json]
kind = "json"
url = "{url}/phptools/asylum/graph.php?denial2=2"
records = "timeline"
period = "fymon"
[sources.json.values]
number = "trac.asylum.grants"

[sources.csv-listing]
kind = "csv"
url = "{url}/document/stats/southwest"
link = 'sbo-encounters-fy\\d+-fy\\d+.*\\.csv$'
metric = "cbp.swb.usbp.encounters"
value = "Encounter Count"
year = "Fiscal Year"
month = "Month (abbv)"
[sources.csv-listing.filters]
Component = "U.S. Border Patrol"

[sources.csv-fixed]
kind = "csv"
url = "{url}/files/sbo-excerpt.csv"
metric = "cbp.swb.{{component}}.fy"
value = "Encounter Count"
year = "Fiscal Year"

[sources.feed]
kind = "feed"
url = "{url}/news/rss.xml"

[sources.listing]
kind = "listing"
url = "{url}/whatsnew/"
items = "ul.whatsnew > li"
date_selector = ".date"

[sources.json-429]
kind = "json"
url = "{url}/phptools/busy/graph.php"
records = "timeline"
period = "fymon"
[sources.json-429.values]
number = "trac.asylum.busy"

[sources.feed-500]
kind = "feed"
url = "{url}/news/flaky.xml"

[sources.facts-slow]
kind = "facts"
url = "{url}/slow/quickfacts.html"
[[sources.facts-slow.facts]]
metric = "trac.slow"
selector = ".text-5xl"

[sources.table-huge]
kind = "table"
url = "{url}/huge/report.html"
metric = "huge.{{row}}"

[sources.csv-huge]
kind = "csv"
url = "{url}/files/huge.csv"
metric = "huge.csv"
value = "Encounter Count"
year = "Fiscal Year"

[sources.listing-private]
kind = "listing"
url = "{url}/private/whatsnew/"
items = "li"

[sources.feed-private]
kind = "feed"
url = "{url}/private/rss.xml"

[sources.table-gone]
kind = "table"
url = "{url}/gone.html"
metric = "gone.{{row}}"
"""
)
HEALTHY = ["table", "facts", "json", "csv-listing", "csv-fixed", "feed", "listing"]
TROUBLED = ["json-429", "feed-500", "facts-slow", "table-huge", "csv-huge", "listing-private",
            "feed-private", "table-gone"]  # fmt: skip


def fixture(name: str) -> bytes:
    return page_bytes(name)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crawl")
    site = Site()
    listing = b'<a href="/files/2025-09/sbo-encounters-fy22-fy25-aug.csv">CSV</a>'
    huge_csv = folder / "huge.csv"
    huge_csv.write_bytes(b"Fiscal Year,Encounter Count\n" + b"2024,1\n" * 250_000)  # 1.75 MB
    site.routes.update({
        "/reports/695/": Route(fixture("report-695.html")),
        "/quickfacts/eoir.html": Route(fixture("quickfacts-eoir.html")),
        "/phptools/asylum/graph.php": Route(fixture("trac_asylum_graph.json"), "application/json"),
        "/document/stats/southwest": Route(listing),
        "/files/2025-09/sbo-encounters-fy22-fy25-aug.csv": Route(
            file=SITE / "sbo-encounters-fy22-fy25-aug.csv"
        ),
        "/files/sbo-excerpt.csv": Route(fixture("cbp_sbo_encounters_excerpt.csv"), "text/csv"),
        "/news/rss.xml": Route(fixture("dhs-news-rss.xml"), "application/rss+xml"),
        "/whatsnew/": Route((SITE / "whatsnew.html").read_bytes()),
        "/phptools/busy/graph.php": Route(
            fixture("trac_asylum_graph.json"), failures=[(429, {"Retry-After": "1"})]
        ),
        "/news/flaky.xml": Route(fixture("dhs-news-rss.xml"), failures=[(500, {})]),
        "/slow/quickfacts.html": Route(fixture("quickfacts-eoir.html"), delay=5),
        "/huge/report.html": Route(b"<table>" + b"<tr><td>x</td></tr>" * 100_000 + b"</table>"),
        "/files/huge.csv": Route(file=huge_csv),
        "/private/whatsnew/": Route((SITE / "whatsnew.html").read_bytes()),
        "/private/rss.xml": Route(fixture("dhs-news-rss.xml")),
    })  # fmt: skip
    config = folder / "crossings.toml"
    config.write_text(SETTINGS + SOURCES.format(url=site.url))
    runner = LocalRunner(config)
    first = {r.source: r for r in runner.crawl_sync(HEALTHY + TROUBLED)}
    yield site, runner, folder / "crossings.db", first
    site.close()


def stored(database: Path) -> tuple[dict, int, int]:
    with Store(database, read_only=True) as store:
        rows = store.db.query(
            "SELECT metric, period, value, flags FROM observations WHERE superseded_at IS NULL"
        )
        current = {(r["metric"], r["period"]): (r["value"], r["flags"]) for r in rows}
        news = len(store.news.search(limit=1000))
        return current, news, store.snapshots.counts()["bodies"]


def test_every_kind_is_crawled_and_stored(world):
    _, _, database, first = world
    for name in HEALTHY:
        assert first[name].status == "ok", (name, first[name])
    assert first["table"].values_new == 54
    assert first["csv-listing"].values_new == 47 and first["csv-listing"].requests == 2
    assert first["feed"].news_new == 3 and first["listing"].news_new == 3
    current, _, _ = stored(database)
    assert current[("cbp.swb.usbp.encounters", "2024-06")][0] == 83532
    assert current[("trac.court.backlog", "2025-05-31")][0] == 3546863
    with Store(database, read_only=True) as store:
        run = store.runs.get(first["table"].run_id)
        assert run.status == "ok" and run.values_new == 54 and run.pid


def test_retries_wait_as_told_and_then_succeed(world):
    site, _, _, first = world
    assert first["json-429"].status == "ok" and first["json-429"].requests == 2
    assert first["feed-500"].status == "ok" and first["feed-500"].news_new == 3
    assert site.hits["/phptools/busy/graph.php"] == 2
    assert site.hits["/news/flaky.xml"] == 2


@pytest.mark.parametrize(
    ("name", "mentions"),
    [
        ("facts-slow", ["facts-slow:", "no answer from", "within 2 s", "(after 1 retry)"]),
        ("table-huge", ["table-huge:", "larger than max_body_mb = 1 MB"]),
        ("csv-huge", ["csv-huge:", "larger than max_body_mb = 1 MB"]),
        ("listing-private", ["listing-private:", "robots.txt", "disallows", "/private/whatsnew/"]),
        ("feed-private", ["feed-private:", "robots.txt", "disallows", "/private/rss.xml"]),
        ("table-gone", ["table-gone:", "/gone.html answered HTTP 404"]),
    ],
)
def test_network_trouble_fails_the_run_with_a_plain_reason(world, name, mentions):
    site, _, database, first = world
    result = first[name]
    assert result.status == "failed"
    for mention in mentions:
        assert mention in result.reason, result.reason
    with Store(database, read_only=True) as store:
        assert store.runs.get(result.run_id).reason == result.reason
    assert site.hits["/private/whatsnew/"] == site.hits["/private/rss.xml"] == 0


def test_second_pass_is_conditional_and_stores_no_new_body(world):
    site, runner, database, _ = world
    before = stored(database)
    again = {r.source: r for r in runner.crawl_sync(HEALTHY)}
    assert {name: r.status for name, r in again.items()} == dict.fromkeys(HEALTHY, "unchanged")
    for path in ("/reports/695/", "/quickfacts/eoir.html", "/news/rss.xml", "/whatsnew/"):
        assert site.conditional_hits[path] == 1, path
    assert stored(database) == before


LAYOUT_CHANGES = {
    # source: (path, new body, words the reason must contain)
    "table": ("/reports/695/", lambda b: b.replace(b"Table 1.", b"Tabelle 1."), ["Table 1."]),
    "facts": ("/quickfacts/eoir.html", lambda b: b.replace(b"card-eoir_backlog", b"card-x"),
              ["#card-eoir_backlog .text-5xl", "found none"]),
    "json": ("/phptools/asylum/graph.php", lambda b: b.replace(b'"timeline"', b'"data"'),
             ["'timeline'", "NoneType"]),
    "csv-fixed": ("/files/sbo-excerpt.csv",
                  lambda b: b.replace(b"Encounter Count", b"Encounters"), ["'Encounter Count'"]),
    "feed": ("/news/rss.xml", lambda b: b"<html><body>Page moved</body></html>",
             ["expected an RSS or Atom feed"]),
    "listing": ("/whatsnew/", lambda b: b.replace(b'class="whatsnew"', b'class="news"'),
                ["ul.whatsnew > li", "found none"]),
}  # fmt: skip


def test_a_changed_layout_makes_the_run_broken_and_changes_nothing_stored(world):
    site, runner, database, _ = world
    observations, news, bodies = stored(database)
    originals = {}
    for path, change, _ in LAYOUT_CHANGES.values():
        originals[path] = site.routes[path].body
        site.routes[path].body = change(site.routes[path].body)
    broken = {r.source: r for r in runner.crawl_sync(list(LAYOUT_CHANGES))}
    for name, (_, _, mentions) in LAYOUT_CHANGES.items():
        assert broken[name].status == "broken", (name, broken[name])
        assert broken[name].reason.startswith(f"{name}: ")
        for mention in mentions:
            assert mention in broken[name].reason, broken[name].reason
    after = stored(database)
    assert after[:2] == (observations, news)
    assert after[2] == bodies + len(LAYOUT_CHANGES)  # the broken pages are kept to diagnose

    # Still broken on the next crawl, although the pages did not change since (no 304 hides it).
    still = {r.source: r.status for r in runner.crawl_sync(list(LAYOUT_CHANGES))}
    assert still == dict.fromkeys(LAYOUT_CHANGES, "broken")

    for path, body in originals.items():
        site.routes[path].body = body
    fixed = {r.source: r for r in runner.crawl_sync(list(LAYOUT_CHANGES))}
    assert {name: r.status for name, r in fixed.items()} == dict.fromkeys(LAYOUT_CHANGES, "ok")
    assert all(r.values_new == r.values_revised == 0 for r in fixed.values())
    assert stored(database)[:2] == (observations, news)
