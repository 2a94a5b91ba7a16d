"""The sample the query tests read: a real crossings database filled through the storage
API with figures TRAC and CBP published, and a config with a source and a threshold rule."""

from dataclasses import dataclass
from pathlib import Path

from alerts.engine import evaluate
from alerts.rules.threshold import Threshold
from core import clock
from core.status import RunCounts
from jobs.config import Config
from jobs.demo.site import daily_series
from scrapers.source import Source
from storage import NewsItem, Observation, SourceEntry, Store
from storage.alerts import AlertState
from storage.catalog import MetricEntry

BACKLOG = "trac.court.backlog"
ENCOUNTERS = "cbp.swb.usbp.encounters"
DAILY = "demo.swb.daily_encounters"  # the demo's illustrative days, judged by a 7-day mean
FIRST_CRAWL = "2025-03-10T06:17:00.000000Z"
SECOND_CRAWL = "2025-06-20T06:17:00.000000Z"
# TRAC's active immigration-court cases at month end (Quick Facts / TRAC reports).
BACKLOG_FIRST = {"2017-09": 629051, "2017-11": 658728, "2021-12": 1596193,
                 "2024-11": 3738341, "2024-12": 3747675, "2025-02": 3685200}  # fmt: skip
# The second crawl revises February (the first print above is made up) and adds May 2025.
BACKLOG_SECOND = {**BACKLOG_FIRST, "2025-02": 3687750, "2025-05": 3546863}
# Border Patrol encounters at the Southwest border (CBP sbo-encounters, summed by month).
ENCOUNTERS_VALUES = {"2023-12": 249740, "2024-06": 83532, "2024-07": 56400,
                     "2025-02": 8353, "2025-08": 6321}  # fmt: skip
SCRAPED_PAGE = (
    b"<html><head><script>document.title='scraped script ran'</script></head>"
    b"<body><div class='font-bold text-5xl'>3,546,863</div>"
    b"At the end of May 2025, 3,546,863 active cases were pending.</body></html>"
)


@dataclass(frozen=True, kw_only=True)
class PageSource(Source, kind="query_test_page"):
    """A page source for these tests (the real kinds live in scrapers/)."""


CONFIG = f"""
[settings]
database = "crossings.db"
timezone = "UTC"

[sources.trac_quickfacts]
kind = "query_test_page"
url = "https://tracreports.org/immigration/quickfacts/eoir.html"
title = "TRAC Quick Facts: Immigration Court"
schedule = "17 6 * * *"

[sources.cbp_encounters]
kind = "query_test_page"
url = "https://www.cbp.gov/document/stats/southwest-land-border-encounters"
title = "CBP Southwest Land Border Encounters"
schedule = "6h"

[rules.week_high]
kind = "threshold"
metric = "{DAILY}"
window = 7
aggregate = "mean"
above = 4000
resolve_below = 3000

[rules.backlog_high]
kind = "threshold"
metric = "{BACKLOG}"
above = 3600000
resolve_below = 3000000
"""


@dataclass(frozen=True)
class Sample:
    config: Config
    database: Path
    snapshot_ids: dict[str, int]


# The [rules.week_high] of CONFIG, as fill() evaluates it.
WEEK_HIGH = Threshold(name="week_high", metric=DAILY, window=7, aggregate="mean", above=4000,
                      resolve_below=3000)  # fmt: skip


def fill(store: Store) -> dict[str, int]:
    """Two crawls of TRAC (the second revises February, adds May), one of CBP, news; two
    of the illustrative daily series, each judged by `week_high` as the daemon would (its
    alert fires after the first, the second revises a day and resolves it)."""
    store.catalog.sync_sources(
        [SourceEntry("trac_quickfacts", "query_test_page", "https://tracreports.org/", "TRAC"),
         SourceEntry("cbp_encounters", "query_test_page", "https://www.cbp.gov/", "CBP")]
    )  # fmt: skip
    store.catalog.describe_metrics(
        [MetricEntry(BACKLOG, "Immigration court backlog (active cases)", "cases",
                     "trac_quickfacts"),
         MetricEntry(ENCOUNTERS, "Border Patrol encounters, Southwest border", "encounters",
                     "cbp_encounters")]
    )  # fmt: skip
    ids = {}
    for label, at, values in (("first", FIRST_CRAWL, BACKLOG_FIRST),
                              ("second", SECOND_CRAWL, BACKLOG_SECOND)):  # fmt: skip
        run = store.runs.start("trac_quickfacts", trigger="schedule")
        snap = store.snapshots.record(
            source="trac_quickfacts",
            url="https://tracreports.org/immigration/quickfacts/eoir.html",
            http_status=200,
            body=SCRAPED_PAGE + label.encode(),
            run_id=run,
            content_type="text/html; charset=utf-8",
            fetched_at=at,
        )
        result = store.observations.upsert(
            [
                Observation(BACKLOG, period, float(value), "cases")
                for period, value in values.items()
            ],
            snapshot_id=snap.id,
            at=at,
        )
        store.runs.finish(
            run, "ok",
            counts=RunCounts(requests=1, values_new=len(result.new),
                             values_revised=len(result.revised), values_unchanged=result.unchanged),
        )  # fmt: skip
        ids[label] = snap.id
    run = store.runs.start("cbp_encounters", trigger="schedule")
    snap = store.snapshots.record(
        source="cbp_encounters", url="https://www.cbp.gov/sbo.csv", http_status=200,
        body=b"Fiscal Year,Month (abbv),Encounter Count\n2024,JUN,83532\n",
        run_id=run, content_type="text/csv", fetched_at=SECOND_CRAWL,
    )  # fmt: skip
    store.observations.upsert(
        [Observation(ENCOUNTERS, p, float(v), "encounters") for p, v in ENCOUNTERS_VALUES.items()],
        snapshot_id=snap.id,
        at=SECOND_CRAWL,
    )
    store.runs.finish(run, "broken", reason="table header 'Encounter Count' not found")
    ids["cbp"] = snap.id
    store.news.add(
        [NewsItem("dhs_news", "dhs-2024-07-24",
                  "FACT SHEET: Presidential Proclamation Cut Encounters at Southwest Border "
                  "by 55 Percent",
                  url="https://www.dhs.gov/news/2024/07/24/fact-sheet",
                  summary="The Border Patrol's 7-day average has decreased to below 1,800 "
                          "encounters per day.",
                  published_at="2024-07-24T14:00:00.000000Z"),
         NewsItem("trac_whatsnew", "trac-250627",
                  "Immigration court backlog <b>falls</b> as new cases drop",
                  url="https://tracreports.org/whatsnew/email.250627.html",
                  summary="At the end of May 2025, 3,546,863 active cases were pending.",
                  published_at="2025-06-27T12:00:00.000000Z")],
        snapshot_id=None,
        at=SECOND_CRAWL,
    )  # fmt: skip
    store.alerts.save_state(
        AlertState("backlog_high", BACKLOG, "firing", since=FIRST_CRAWL, value=3685200.0,
                   period="2025-02")
    )  # fmt: skip
    store.alerts.add_event(
        rule="backlog_high", series=BACKLOG, kind="firing", at=FIRST_CRAWL, period="2025-02",
        summary="Backlog <i>3,685,200</i> is at or above 3,600,000", payload={},
        key="backlog_high:2025-02", silenced=False,
    )  # fmt: skip
    daily_crawls = (("2025-03-01T06:00:00.000000Z", 10), ("2025-03-05T06:00:00.000000Z", 40))
    for at, days in daily_crawls:  # the second revises day 8, before the TRAC crawls
        store.observations.upsert(
            [Observation(DAILY, day.isoformat(), float(v), "encounters")
             for day, v in daily_series(days)],
            snapshot_id=None, at=at,
        )  # fmt: skip
        evaluate(store, {"week_high": WEEK_HIGH}, now=clock.parse(at))
    return ids


# Every 6 hours from its last run, not on a cron line: a scheduled run never comes before
# the retry 5 minutes after its failure, whatever the hour the tests run at.
FAILING_SOURCE = """
[sources.dhs_news_releases]
kind = "query_test_page"
url = "https://www.dhs.gov/news-releases/press-releases"
title = "DHS press releases about Immigration and Customs Enforcement"
schedule = "6h"
"""


def fail(store: Store) -> None:
    """A run of the FAILING_SOURCE that could not reach its site, as the crawl reports it."""
    run = store.runs.start("dhs_news_releases", trigger="schedule")
    store.runs.finish(
        run, "failed",
        reason="https://www.dhs.gov/news-releases/press-releases?page=1&items_per_page=50: "
               "DNS lookup failed: no such host www.dhs.gov (check the address and this "
               "machine's network)",
    )  # fmt: skip
