"""History, as a user meets it: a new database loaded with years of daily figures in one
real crawl (a JSON file on a local HTTP server) records every past crossing of the
proclamation rule as historical and delivers nothing for them; `crossings alerts events`
says so; `crossings alerts backtest` prints the same days, for the configured rule, a
rule in another file and a rule given on the command line; `crossings check` rejects a
derived metric that names nothing known."""

import json
from datetime import date, timedelta

from storage import Store
from tests.commands import crossings
from tests.configs import settings, webhook
from tests.scrapers.server import Route, Site

START = date(2024, 5, 1)
SURGE = [1000] * 10 + [3000] * 20 + [1000] * 70  # in force day 16, lifted day 77


def day(n: int) -> str:
    return (START + timedelta(days=n - 1)).isoformat()


CONFIG = (
    settings(obey_robots_txt=False)
    + """
[sources.daily]
kind = "json"
url = "{url}/daily.json"
period = "date"
unit = "encounters"

[sources.daily.values]
encounters = "cbp.swb.encounters.daily"

[metrics.cbp-swb-weekly-mean]
expression = 'rolling("cbp.swb.encounters.daily", "7d", mean)'
label = "7-day mean of daily encounters"
"""
    + webhook("{hook}")
    + """
[rules.border-proclamation]
kind = "threshold"
description = "Border proclamation (amended)"
metric = "cbp.swb.encounters.daily"
window = "7d"
aggregate = "mean"
at_or_above = 2500
resolve_below = 1500
resolve_for = "28d"
lift_after = "14d"
channels = ["hook"]
"""
)


def test_a_new_database_loaded_in_one_crawl_shows_the_past_as_history(tmp_path, receiver):
    records = [{"date": day(n), "encounters": v} for n, v in enumerate(SURGE * 2, start=1)]
    site = Site()
    site.routes["/daily.json"] = Route(json.dumps(records).encode(), "application/json")
    try:
        config = tmp_path / "crossings.toml"
        config.write_text(CONFIG.format(url=site.url, hook=receiver.url))
        crawl = crossings(config, "crawl", "daily")
    finally:
        site.close()
    assert crawl.returncode == 0, crawl.stdout + crawl.stderr
    assert receiver.requests == []  # nothing past is delivered

    events = crossings(config, "alerts", "events", "--json")
    found = [(e["kind"], e["period"], e["delivery"]) for e in json.loads(events.stdout)]
    history = "historical (not sent)"
    assert sorted(found, key=lambda e: e[1]) == [
        ("firing", day(16), history), ("resolved", day(77), history),
        ("firing", day(116), history), ("resolved", day(177), history),
    ]  # fmt: skip
    with Store(tmp_path / "crossings.db", read_only=True) as store:
        assert store.outbox.counts() == {"pending": 0, "sent": 0, "dead": 0}
        weekly = store.observations.series("cbp-swb-weekly-mean")
        assert (weekly[0].period, round(weekly[9].value, 1)) == (day(7), 2714.3)

    replay = crossings(config, "alerts", "backtest", "border-proclamation", "--since", day(100))
    assert replay.returncode == 0, replay.stderr
    lines = replay.stdout.splitlines()
    assert [line.split()[:2] for line in lines[2:]] == [[day(116), "firing"],
                                                        [day(177), "resolved"]]  # fmt: skip
    assert "7-day mean 2,714.29 is at or above 2,500" in replay.stdout

    # The original variant, before it is added: from a file, and on the command line.
    other = tmp_path / "try.toml"
    other.write_text(
        '[rules.original]\nkind = "threshold"\nmetric = "cbp.swb.encounters.daily"\n'
        'window = "7d"\naggregate = "mean"\nat_or_above = 2500\nresolve_below = 1500\n'
        'lift_after = "14d"\n'
    )
    from_file = crossings(config, "alerts", "backtest", "original", "--file", str(other), "--csv")
    assert from_file.returncode == 0, from_file.stderr
    periods = [row.split(",")[:2] for row in from_file.stdout.splitlines()[1:]]
    assert periods == [[day(16), "firing"], [day(50), "resolved"],
                       [day(116), "firing"], [day(150), "resolved"]]  # fmt: skip
    defined = crossings(
        config, "alerts", "backtest", "weekly-4k", "--csv", "--define",
        'kind = "threshold", metric = "cbp-swb-weekly-mean", above = 2900',
    )  # fmt: skip
    assert defined.returncode == 0, defined.stderr
    assert [row.split(",")[:2] for row in defined.stdout.splitlines()[1:]] == [
        [day(17), "firing"],
        [day(31), "resolved"],
        [day(117), "firing"],
        [day(131), "resolved"],
    ]  # a week of 3,000 is above 2,900; six days of it (2,857) are not
    assert receiver.requests == []  # a backtest sends nothing


def test_check_rejects_a_derived_metric_over_an_unknown_series(tmp_path):
    config = tmp_path / "crossings.toml"
    config.write_text(
        CONFIG.format(url="http://127.0.0.1:9", hook="http://127.0.0.1:9")
        + "\n[metrics.typo]\nexpression = 'per_day(\"cbp.swb.encounter.daily\")'\n"
        + '\n[metrics.mixed]\nexpression = \'"cbp.swb.encounters.daily" + "trac.backlog"\'\n'
        + '[sources.trac]\nkind = "facts"\nurl = "http://127.0.0.1:9/q"\n'
        + '[[sources.trac.facts]]\nmetric = "trac.backlog"\nselector = "#b"\nunit = "cases"\n'
    )
    checked = crossings(config, "check")
    assert checked.returncode == 2, checked.stdout
    assert (
        "metric \"typo\": unknown metric 'cbp.swb.encounter.daily': no source publishes it"
        in checked.stderr
    )
    assert 'metric "mixed": unit mismatch: "cbp.swb.encounters.daily" is in encounters' in (
        checked.stderr
    )
