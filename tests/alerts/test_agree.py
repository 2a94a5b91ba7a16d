"""The `agree` rule over the real ICE workbook and TRAC record that carry the same count
(68,289 people held), read by the bundled config's own sources and rule: quiet while they
agree; firing, naming both sources, values, periods and snapshots, on a seeded
disagreement; resolved when they agree again."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.engine import evaluate
from alerts.rules.agree import Agree
from jobs.config import load
from jobs.starter import starter_text
from scrapers.extract import Page, extract
from scrapers.recorder import Fetch, Recorder
from storage import Observation, Store

REAL = Path(__file__).parent.parent / "fixtures" / "real"
ICE_URL = "https://www.ice.gov/doclib/detention/FY26_detentionStats_02122026.xlsx"
TRAC = json.loads((REAL / "trac_pop_agen_table_2026-07-11.json").read_bytes())
RULE = "ice-trac-detention-agree"


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    config = tmp_path_factory.mktemp("agree") / "crossings.toml"
    config.write_text(starter_text())
    return load(config)


def crawl(store: Store, config, name: str, url: str, body: bytes) -> None:
    """Store a page as a crawl does: the bundled source's extractor, then the recorder."""
    source = config.sources[name]
    recorder = Recorder(store)
    run = recorder.start(name, source, trigger="manual", pid=None)
    extraction = extract(source, Page(url, body))
    assert recorder.page(run, Fetch(url, 200, body), extraction) is None
    recorder.finish(run, "ok")


def trac(total: int | None = None) -> bytes:
    """TRAC's real records; `total`: 02/07/2026's total changed to it (a seeded change)."""
    rows = [dict(row) for row in TRAC]
    for row in rows:
        if total is not None and row["date"] == "02/07/2026":
            row["total_all"] = total
    return json.dumps(rows).encode()


def test_ice_and_trac_agree_then_a_seeded_disagreement_fires_and_resolves(store, bundled):
    rules = {RULE: bundled.rules[RULE]}
    crawl(store, bundled, "ice-detention", ICE_URL,
          (REAL / "ice_detention_stats_fy2026_2026-02-12.xlsx").read_bytes())  # fmt: skip
    crawl(store, bundled, "trac-detention", bundled.sources["trac-detention"].url, trac())
    ice = store.observations.series("ice.detained.total.total")
    assert [p.value for p in ice] == [68289]
    assert evaluate(store, rules, now=datetime(2026, 2, 13, tzinfo=UTC)) == []
    assert store.alerts.states(rule=RULE, state="firing") == []

    crawl(store, bundled, "trac-detention", bundled.sources["trac-detention"].url, trac(68389))
    [event] = evaluate(store, rules, now=datetime(2026, 2, 14, tzinfo=UTC))
    assert event.kind == "firing"
    said = event.summary
    for words in ("ice.detained.total.total", "68,289", "ice-detention", "trac.detention.total",
                  "2026-02-07", "68,389", "trac-detention", "100 apart", "snapshot"):  # fmt: skip
        assert words in said, said
    figures = event.payload["figures"]
    assert {figure["source"] for figure in figures} == {"ice-detention", "trac-detention"}
    assert all(figure["snapshot_id"] for figure in figures)

    crawl(store, bundled, "trac-detention", bundled.sources["trac-detention"].url, trac())
    [event] = evaluate(store, rules, now=datetime(2026, 2, 15, tzinfo=UTC))
    assert event.kind == "resolved"


CASES = [
    # (rule keys, first, second, fires)
    ({}, [("2024-06", 100)], [("2024-06", 100)], False),
    ({}, [("2024-06", 100)], [("2024-06", 101)], True),
    ({"tolerance": 1}, [("2024-06", 100)], [("2024-06", 101)], False),
    ({"tolerance_percent": 0.5}, [("2024-06", 1000)], [("2024-06", 1006)], True),
    ({"tolerance_percent": 1}, [("2024-06", 1000)], [("2024-06", 1006)], False),
    ({"since": "2024-07"}, [("2024-06", 100)], [("2024-06", 900)], None),  # not compared
    ({"within_days": 7}, [("2026-02-12", 5)], [("2026-02-07", 5)], False),
    ({"within_days": 7}, [("2026-02-12", 5)], [("2026-02-07", 6), ("2026-02-11", 5)], False),
    ({"within_days": 3}, [("2026-02-12", 5)], [("2026-02-07", 6)], None),  # none near
]


@pytest.mark.parametrize(("keys", "first", "second", "fires"), CASES)
def test_alignment_and_tolerance(store, keys, first, second, fires):
    for metric, points in (("a", first), ("b", second)):
        store.observations.upsert([Observation(metric, p, v) for p, v in points], snapshot_id=None)
    rule = Agree(name="same", metrics=("a", "b"), no_data="alert", **keys)
    assert rule.problems() == []
    kinds = [event.kind for event in evaluate(store, {"same": rule})]
    if fires is None:
        assert "firing" not in kinds
        return
    assert ("firing" in kinds) is fires


def test_problems_are_said():
    rule = Agree(name="x", metrics=("a*",), tolerance=1, tolerance_percent=1)
    assert rule.problems() == [
        "name at least two metrics to compare",
        "metrics are plain names, not patterns",
        "set tolerance or tolerance_percent, not both",
    ]
