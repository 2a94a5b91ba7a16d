"""What a user sees of release-aware polling: the config it accepts and refuses, the
rhythm, next release and plan in `crossings sources` and on the source page, and the
time since the last new period in /metrics. The history is six monthly releases before
today, stored as real runs and observations."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from click.testing import CliRunner

from core import clock
from jobs.cli import cli
from jobs.config import ConfigError, load
from jobs.scheduling.polling import budgets
from storage import MetricEntry, Observation, Store
from tests.query.servers import serving

ZONE = ZoneInfo("America/New_York")
CONFIG = """
[settings]
database = "crossings.db"
timezone = "America/New_York"

[sources.cbp]
kind = "table"
url = "https://www.cbp.gov/newsroom/stats/nationwide-encounters"
schedule = "auto"
releases = "monthly, days 10-20"
periods = "rows"
metric = "cbp.{column}"

[sources.trac]
kind = "table"
url = "https://tracreports.org/immigration/quickfacts/"
schedule = "17 6 * * *"
periods = "rows"
metric = "trac.{column}"

[rules.cbp-late]
kind = "late_release"
source = "cbp"
description = "CBP monthly encounters"
"""
DAYS = [14, 16, 13, 17, 15, 16]  # publication days of the six latest months


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    folder = tmp_path_factory.mktemp("visible")
    (folder / "crossings.toml").write_text(CONFIG)
    loaded = load(folder / "crossings.toml")
    today = datetime.now(ZONE)
    published = [(f"2020-{month:02d}", datetime(2020, month, 1, tzinfo=ZONE))
                 for month in range(1, 13)]  # fmt: skip
    with pytest.MonkeyPatch.context() as monkeypatch, Store(loaded.database) as store:
        moment = today - timedelta(days=250)
        monkeypatch.setattr(clock, "now", lambda: clock.to_text(moment))
        store.catalog.describe_metrics([MetricEntry("cbp.Cases", source="cbp")])
        crawl(store, published)
        latest = 0 if today.day > 17 else 1  # the latest month whose release is out
        for months_ago, day in zip(range(5 + latest, latest - 1, -1), DAYS, strict=True):
            year, month = divmod(today.year * 12 + today.month - 1 - months_ago, 12)
            out = datetime(year, month + 1, day, 10, 30, tzinfo=ZONE)
            published.append((f"2021-{12 - months_ago:02d}", out))
            for moment in (out - timedelta(minutes=5), out + timedelta(minutes=5)):
                crawl(store, [p for p in published if p[1] <= moment])
    return loaded


def crawl(store: Store, shown: list[tuple[str, datetime]]) -> None:
    run = store.runs.start("cbp", trigger="release window")
    result = store.observations.upsert(
        [Observation("cbp.Cases", period, 1.0) for period, _ in shown], snapshot_id=None
    )
    store.runs.finish(run, "ok" if result.new else "unchanged")


def test_sources_show_the_rhythm_the_next_release_and_the_plan(config):
    result = CliRunner().invoke(cli, ["--config", str(config.path), "sources", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["source"]: row for row in __import__("json").loads(result.output)}
    cbp = rows["cbp"]
    assert cbp["releases"] == "monthly, days 13-17, 09:00-12:00 (learned from 6 releases)"
    assert cbp["next_release"].startswith("expected ")
    assert " 09:00 - " in cbp["next_release"] and cbp["next_release"].endswith(" 12:00")
    assert cbp["polling"].startswith("every ")
    assert "budget 300 polls a month" in cbp["polling"]
    assert cbp["next_run"] is not None  # planned, although it has no cron line
    trac = rows["trac"]
    assert trac["releases"].startswith("not known yet: 0 release(s) seen, 4 needed")
    assert trac["next_release"] == "" and trac["polling"] == "on the schedule"


def test_source_page_and_metrics_show_them(config):
    with serving(config) as url:
        page = requests.get(f"{url}/sources/cbp", timeout=30).text
        metrics = requests.get(f"{url}/metrics", timeout=30).text
    assert "Releases" in page and "learned from 6 releases" in page
    assert "budget 300 polls a month" in page
    line = next(x for x in metrics.splitlines() if x.startswith("crossings_source_seconds_since"))
    assert line.startswith('crossings_source_seconds_since_new_period{source="cbp"}')
    days = float(line.split()[-1]) / 86400
    assert 1 < days < 62  # last month's release, on its day 16


@pytest.mark.parametrize(
    ("releases", "says"),
    [
        ("monthly, days 20-10", "'days A-B' are days of the month"),
        ("fortnightly", "'fortnightly' is not a rhythm"),
        ("weekly, days 1-5", "for a monthly source"),
        ("monthly, hours 9-25", "'hours A-B' need 0 <= A < B <= 24"),
    ],
)
def test_a_bad_hint_is_a_config_problem_naming_the_forms(tmp_path, releases, says):
    path = tmp_path / "crossings.toml"
    path.write_text(CONFIG.replace('"monthly, days 10-20"', f'"{releases}"'))
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert 'source "cbp"' in str(caught.value)
    assert says in str(caught.value)


def test_the_late_rule_is_given_its_sources_hint_and_zone(config):
    rule = config.rules["cbp-late"]
    assert (rule.releases, rule.timezone) == ("monthly, days 10-20", "America/New_York")


def test_a_sites_budget_is_shared_by_its_planned_sources(tmp_path):
    path = tmp_path / "crossings.toml"
    more = """
[sources.cbp-table]
kind = "table"
url = "https://www.cbp.gov/newsroom/stats/other"
schedule = "47 9 * * *"
releases = "auto"
metric = "cbp.table.{row}"

[sources.cbp-own]
kind = "table"
url = "https://www.cbp.gov/newsroom/stats/third"
schedule = "auto"
budget = 40
metric = "cbp.third.{row}"
"""
    path.write_text(CONFIG.replace("[rules.cbp-late]", more + "\n[rules.cbp-late]"))
    loaded = load(path)
    shares = budgets(loaded.sources, loaded.settings.polling_budget)
    # cbp and cbp-table share www.cbp.gov's 300; cbp-own has its own; trac is not planned
    assert shares == {"cbp": 150, "cbp-table": 150, "cbp-own": 40}
