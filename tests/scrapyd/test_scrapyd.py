"""Crawls on two real Scrapyd nodes: `crossings deploy` and `crossings nodes` against
them; the daemon with the Scrapyd runner stores exactly what the local runner stores for
the same site, split across both nodes; a feed ingested twice changes nothing; a node
killed mid-job and a node refusing the credentials end as runs with reasons, the sources
crawled on the other node."""

import asyncio
import io
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from jobs.aftermath import after_crawl
from jobs.cli import cli
from jobs.config import load
from jobs.demo.site import DemoSite, demo_sources_toml
from jobs.runners.local import LocalRunner
from jobs.runners.scrapyd import ScrapydRunner
from scrapers.records import ingest, read_lines
from storage import Store
from tests import configs
from tests.jobs.daemon import RunningDaemon
from tests.scrapers.server import Route, Site
from tests.scrapyd.nodes import ScrapydNode

pytestmark = pytest.mark.slow


def write_config(directory: Path, sources: str, *, runner: str, nodes=(), extra="") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return configs.write_config(
        directory, "\n", sources, extra, database="data/crossings.db", retries=0,
        shutdown_grace=1, runner=runner, scrapyd_nodes=[node.url for node in nodes],
    )  # fmt: skip


def demo_sources(site: DemoSite) -> str:
    """The demo site's sources, due once at start-up and not again during the test."""
    return re.sub(
        r'^schedule = ".*"$', 'schedule = "1h"', demo_sources_toml(site.base_url), flags=re.M
    )


def crossings(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def crawl_with_daemon(config: Path, sources: int) -> Path:
    """Run `crossings run` until every source has a finished run, then stop it."""
    daemon = RunningDaemon(config)
    try:
        daemon.wait_for(
            "every source crawled once",
            lambda: (
                len(runs := daemon.runs()) >= sources
                and all(run["status"] != "running" for run in runs)
            ),
        )
    finally:
        assert daemon.stop() == 0, daemon.log.read_text()
    return daemon.database


def dump(database: Path) -> dict[str, list[tuple]]:
    """What a user reads from the database, without ids and clock times."""
    conn = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    queries = {
        "runs": """SELECT source, trigger, status, reason, requests, bytes, values_new,
                          values_revised, values_unchanged, news_new FROM runs""",
        "observations": """SELECT o.metric, o.period, o.value, o.unit, o.flags,
                                  o.superseded_at IS NULL, o.previous_id IS NULL, s.source, s.url
                           FROM observations o LEFT JOIN snapshots s ON s.id = o.snapshot_id""",
        "news": """SELECT n.source, guid, n.url, title, summary, published_at, s.url
                   FROM news n LEFT JOIN snapshots s ON s.id = n.snapshot_id""",
        "snapshots": """SELECT source, url, http_status, content_type, etag, last_modified,
                               sha256, size FROM snapshots""",
        "bodies": "SELECT sha256, size FROM bodies",
        "metrics": "SELECT name, label, unit, source, description FROM metrics",
    }
    try:
        return {name: sorted(conn.execute(sql), key=repr) for name, sql in queries.items()}
    finally:
        conn.close()


def outcomes(results: list) -> list[tuple]:
    return sorted(
        (r.source, r.status, r.values_new, r.values_revised, r.values_unchanged, r.news_new)
        for r in results
    )


def not_modified(database: Path) -> set[tuple[str, str]]:
    """(source, url) of the fetches answered 304."""
    conn = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    try:
        return set(conn.execute("SELECT source, url FROM snapshots WHERE http_status = 304"))
    finally:
        conn.close()


def finished_jobs(node: ScrapydNode) -> list[dict]:
    return node.call("listjobs.json?project=crossings")["finished"]


def test_deploy_then_the_daemon_on_two_nodes_stores_what_the_local_runner_stores(
    tmp_path, two_nodes, node_credentials
):
    with DemoSite(day_seconds=1e6) as site:
        sources = demo_sources(site)
        remote = write_config(tmp_path / "remote", sources, runner="scrapyd", nodes=two_nodes)

        undeployed = crossings(remote, "nodes")
        assert undeployed.exit_code == 1
        assert "no version of crossings" in undeployed.stdout
        assert "crossings deploy" in undeployed.stdout

        deployed = crossings(remote, "deploy")
        assert deployed.exit_code == 0, deployed.output
        for node in two_nodes:
            assert f"{node.url}: deployed " in deployed.stdout

        listed = crossings(remote, "nodes", "--json")
        assert listed.exit_code == 0, listed.output
        assert listed.stdout.count('"ready"') == 2

        count = len(load(remote).sources)
        local_db = crawl_with_daemon(
            write_config(tmp_path / "local", sources, runner="local"), count
        )
        remote_db = crawl_with_daemon(remote, count)

        local, scrapyd = dump(local_db), dump(remote_db)
        assert len(local["runs"]) == count and {run[2] for run in local["runs"]} == {"ok"}
        assert local["observations"] and local["news"]
        for table in local:
            assert scrapyd[table] == local[table], table

        # a second crawl: the node sends the ETags the daemon sent it (conditional GET)
        names = list(load(remote).sources)
        again_local = asyncio.run(LocalRunner(tmp_path / "local" / "crossings.toml").crawl(names))
        again_remote = asyncio.run(ScrapydRunner(load(remote)).crawl(names))
    assert outcomes(again_remote) == outcomes(again_local)
    assert {result.status for result in again_local} == {"unchanged"}
    for table in ("observations", "news", "metrics", "bodies"):
        assert dump(remote_db)[table] == dump(local_db)[table], table
    listing = load(remote).sources["cbp-sbo-encounters"].url
    # the node keeps no bodies, so a listing page (where a file's link is found) comes whole
    assert not_modified(local_db) - not_modified(remote_db) == {("cbp-sbo-encounters", listing)}

    # split across both nodes: each ran at least one job, and together every source
    feeds = {node.url: [job["items_url"] for job in finished_jobs(node)] for node in two_nodes}
    assert all(feeds.values()), feeds
    crawled = set()
    for node in two_nodes:
        for items_url in feeds[node.url]:
            crawled |= {
                record["source"]
                for record in read_lines(io.BytesIO(node.feed(items_url)).readlines())
            }
    assert crawled == set(load(remote).sources)

    # a feed ingested again changes nothing
    node = two_nodes[0]
    records = list(read_lines(io.BytesIO(node.feed(feeds[node.url][0])).readlines()))
    before = dump(remote_db)
    with Store(remote_db) as store:
        again = ingest(store, load(remote).sources, records)
    assert again.stored == () and again.already_closed
    assert dump(remote_db) == before


def test_a_node_killed_mid_job_leaves_an_interrupted_run_and_the_source_is_crawled_on_the_other(
    tmp_path, two_nodes, node_credentials
):
    doomed = ScrapydNode(tmp_path / "doomed")
    site = Site()
    try:
        site.routes["/slow.xml"] = Route(RSS, "application/rss+xml", delay=3)
        config = write_config(
            tmp_path,
            FEED_SOURCE.format(url=site.url),
            runner="scrapyd",
            nodes=[doomed, two_nodes[1]],
        )
        assert crossings(config, "deploy").exit_code == 0
        runner = ScrapydRunner(load(config), timeout=120)
        runner.lost_after = 2.0  # the node is gone at once (connection refused): no need to wait

        async def crawl_and_kill():
            crawl = asyncio.create_task(runner.crawl(["slow"]))
            while not site.hits["/slow.xml"]:
                await asyncio.sleep(0.05)
            doomed.kill()
            return await crawl

        [result] = asyncio.run(crawl_and_kill())
    finally:
        doomed.kill()
        site.close()
    assert result.status == "ok"
    with Store(tmp_path / "data" / "crossings.db", read_only=True) as store:
        first, second = reversed(store.runs.recent("slow"))
        assert store.news.search(source="slow")
    assert first.status == "interrupted"
    assert f"the Scrapyd node {doomed.url} stopped answering" in first.reason
    assert "crawled again on another node" in first.reason
    assert second.status == "ok" and second.id == result.run_id


def test_a_node_refusing_the_credentials_is_not_used_and_when_none_is_left_runs_fail(
    tmp_path, two_nodes, node_credentials
):
    stranger = ScrapydNode(tmp_path / "stranger", password="another-secret")
    site = Site()
    site.routes["/slow.xml"] = Route(RSS, "application/rss+xml")
    try:
        both = write_config(
            tmp_path / "both",
            FEED_SOURCE.format(url=site.url),
            runner="scrapyd",
            nodes=[stranger, two_nodes[0]],
        )
        assert crossings(both, "deploy").exit_code == 1
        listed = crossings(both, "nodes")
        assert listed.exit_code == 1
        assert f"{stranger.url} refused the username and password (HTTP 401)" in listed.stdout
        [result] = asyncio.run(ScrapydRunner(load(both), timeout=120).crawl(["slow"]))
        assert result.status == "ok", result.reason

        alone = write_config(
            tmp_path / "alone",
            FEED_SOURCE.format(url=site.url),
            runner="scrapyd",
            nodes=[stranger],
            extra=HEALTH_RULE,
        )
        [result] = asyncio.run(ScrapydRunner(load(alone), timeout=120).crawl(["slow"]))
    finally:
        stranger.stop()
        site.close()
    assert result.status == "failed"
    assert result.reason == (
        f"slow: no Scrapyd node can crawl it: {stranger.url} refused the username and password "
        "(HTTP 401): set SCRAPYD_USERNAME and SCRAPYD_PASSWORD to the node's `username` and "
        "`password` (its scrapyd.conf)"
    )
    with Store(tmp_path / "alone" / "data" / "crossings.db") as store:
        events = after_crawl(load(alone), store).events
    assert [event.rule for event in events] == ["slow-health"]


def test_stopping_cancels_the_jobs_and_their_cut_off_runs_end_interrupted(
    tmp_path, two_nodes, node_credentials
):
    site = Site()
    site.routes["/slow.xml"] = Route(RSS, "application/rss+xml", delay=60)
    node = two_nodes[0]
    try:
        config = write_config(
            tmp_path, FEED_SOURCE.format(url=site.url), runner="scrapyd", nodes=[node]
        )
        assert crossings(config, "deploy").exit_code == 0
        runner = ScrapydRunner(load(config), timeout=120)

        async def crawl_then_stop():
            crawl = asyncio.create_task(runner.crawl(["slow"]))
            while not site.hits["/slow.xml"]:
                await asyncio.sleep(0.05)
            runner.terminate()  # as the daemon does: ask (SIGINT) ...
            await asyncio.sleep(0.5)
            runner.terminate()  # ... then insist (SIGTERM)
            return await crawl

        [result] = asyncio.run(crawl_then_stop())
    finally:
        site.close()
    assert result.status == "interrupted"
    assert result.reason == (
        f"slow: the crawl on {node.url} was stopped (the daemon is stopping) before this "
        "source finished; it will be fetched again on its next run"
    )


RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>One</title><link>https://example.org/1</link></item></channel></rss>"""
FEED_SOURCE = """[sources.slow]
kind = "feed"
url = "{url}/slow.xml"
"""
HEALTH_RULE = """
[rules.slow-health]
kind = "source_health"
source = "slow"
failures = 1
"""
