"""The acceptance test of the scrapers: `crossings crawl --all` against the bundled demo
site fills the database with the right series, a second crawl stores no new bodies, and
`reparse` reproduces the same observations."""

from pathlib import Path

import pytest

from jobs.demo.site import DemoSite, demo_sources_toml
from storage import Store
from tests.commands import crossings
from tests.configs import write_config


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    with DemoSite(day_seconds=3600) as site:
        config = write_config(folder, demo_sources_toml(site.base_url))
        first = crossings(config, "crawl", "--all")
        yield config, folder / "crossings.db", first


def current(database: Path) -> dict[tuple[str, str], tuple[float, tuple[str, ...]]]:
    with Store(database, read_only=True) as store:
        rows = store.db.query(
            "SELECT metric, period, value, flags FROM observations WHERE superseded_at IS NULL"
        )
        return {(r["metric"], r["period"]): (r["value"], r["flags"]) for r in rows}


def test_crawl_all_fills_the_database_with_the_right_series(demo):
    _, database, first = demo
    assert first.returncode == 0, first.stdout + first.stderr
    for name in ("trac-completions", "cbp-sbo-encounters", "dhs-news", "demo-daily-encounters"):
        assert name in first.stdout
    values = current(database)
    completions = values[("trac.completions.total_case_completions", "FY2022")]
    assert completions[0] == 375_842
    assert "partial" in completions[1]
    assert values[("cbp.swb.usbp.encounters", "2024-06")][0] == 83_532
    assert values[("trac.court.backlog", "2025-05-31")][0] == 3_546_863
    assert values[("trac.asylum.grants", "2024-06")][0] == 2_789  # the string "2,789"
    assert values[("trac.detention.total", "2025-09-21")][0] == 59_762
    assert values[("cbp.table.southwest_border_total_apprehensions", "2025-08")][0] == 6_321
    assert ("cbp.table.southwest_border_total_apprehensions", "2025-09") not in values  # "-"
    assert values[("demo.swb.daily_encounters", "2024-05-27")][0] == 3_600
    with Store(database, read_only=True) as store:
        titles = [item.title for item in store.news.search(limit=20)]
        assert any("Government Fails To Detain" in title for title in titles)
        assert any("CBP Releases July 2023 Monthly Update" in title for title in titles)
        metric = store.catalog.metric("cbp.swb.usbp.encounters")
        assert metric is not None and metric.source == "cbp-sbo-encounters"


def test_a_second_crawl_stores_no_new_bodies_and_reparse_reproduces_the_values(demo):
    config, database, _ = demo
    with Store(database, read_only=True) as store:
        bodies_before = store.snapshots.counts()["bodies"]
    before = current(database)
    second = crossings(config, "crawl", "--all")
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.count("unchanged") == 9, second.stdout
    with Store(database, read_only=True) as store:
        assert store.snapshots.counts()["bodies"] == bodies_before
    for name in ("trac-completions", "cbp-sbo-encounters", "trac-quickfacts"):
        again = crossings(config, "reparse", name)
        assert again.returncode == 0, again.stderr
        assert "0 new, 0 revised" in again.stdout, again.stdout
    assert current(database) == before
