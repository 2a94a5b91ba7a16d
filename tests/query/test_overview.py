"""What the overview answers at a glance, over real HTTP: when a failed source is tried
again, rules that fired and resolved with their last event, every link going somewhere,
and pages that reload themselves while the daemon serves them."""

import asyncio
import json
import re
from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import pytest
import requests
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from core.formatting import moment
from jobs.cli import cli
from jobs.web.app import make_app
from jobs.web.health import SCHEDULER_STATUS
from tests.query.sample import Sample
from tests.query.servers import serving


@pytest.fixture(scope="module")
def site(troubled: Sample) -> Iterator[str]:
    with serving(troubled.config) as url:
        yield url


class Links(HTMLParser):
    """The links and the element ids of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(found["id"] or "")
        if tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")


def row_of(page: str, table: str, text: str) -> str:
    """The <tr> of table #`table` holding `text`, as HTML with the tags taken out."""
    body = re.search(rf'<table id="{table}">(.*?)</table>', page, re.DOTALL)
    assert body, f"no table #{table}"
    rows = [re.sub(r"<[^>]+>", "", row) for row in body[1].split("<tr")]
    found = [" ".join(row.split()) for row in rows if text in row]
    assert found, f"no row with {text!r} in #{table}"
    return found[0]


def test_every_link_answers_or_points_at_an_anchor(site: str) -> None:
    """Follow every link of our own from the overview, page by page; fragments must name
    an element of the page they point to."""
    pages: dict[str, Links] = {}
    queue, problems = deque([f"{site}/"]), []
    anchors: list[tuple[str, str, str]] = []  # (from page, to page, fragment)
    while queue:
        url = queue.popleft()
        if url in pages:
            continue
        response = requests.get(url, timeout=30)
        if response.status_code != 200:
            problems.append(f"{url}: {response.status_code}")
        parsed = Links()
        if response.headers.get("Content-Type", "").startswith("text/html"):
            parsed.feed(response.text)
        pages[url] = parsed
        for link in parsed.links:
            target, fragment = urldefrag(urljoin(url, link))
            if urlsplit(target).netloc != urlsplit(site).netloc:
                continue  # the scraped sites' own pages are not ours to check
            if fragment:
                anchors.append((url, target, unquote(fragment)))
            if target not in pages:
                queue.append(target)
    for origin, target, fragment in anchors:
        if fragment not in pages[target].ids:
            problems.append(f"{origin} links to #{fragment}, which {target} does not have")
    assert len(pages) > 10  # the crawl reached the metric, source and snapshot pages
    assert problems == []


def test_next_run_says_when_a_failed_source_is_retried(site: str, troubled: Sample) -> None:
    result = CliRunner().invoke(cli, ["--config", str(troubled.config.path), "sources", "--json"])
    retry = {row["source"]: row for row in json.loads(result.output)}["dhs_news_releases"]
    assert retry["retry_at"]
    shown = moment(retry["retry_at"], troubled.config.settings.zone)
    assert f"retry {shown}" in row_of(requests.get(site, timeout=30).text, "sources", "DHS")


def test_resolved_rules_are_listed_with_their_last_event(site: str) -> None:
    page = requests.get(site, timeout=30).text
    resolved = row_of(page, "standings", "week_high")
    assert "resolved since" in resolved
    assert "[resolved] week_high: 7-day mean 2,905 is below 3,000" in resolved
    firing = row_of(page, "standings", "backlog_high")
    assert "firing since" in firing
    assert "Backlog &lt;i&gt;3,685,200&lt;/i&gt; is at or above 3,600,000" in firing  # escaped


def front_page(sample: Sample, *, daemon: bool) -> str:
    app = make_app(sample.config)
    if daemon:  # `crossings run` serves the pages with its scheduler's status
        app[SCHEDULER_STATUS] = lambda: {"running": True}

    async def fetch() -> str:
        async with TestClient(TestServer(app)) as client:
            return await (await client.get("/")).text()

    return asyncio.run(fetch())


def test_pages_reload_themselves_while_the_daemon_runs(sample: Sample) -> None:
    assert '<meta http-equiv="refresh" content="60">' in front_page(sample, daemon=True)
    assert "http-equiv" not in front_page(sample, daemon=False)  # `crossings serve`: static
