"""Vintages from the past (a web archive's captures) slotted among those stored: the
history is the one crawls at those times would have made, whatever order captures come
in, and live vintages stored later keep their place."""

from alerts.engine import evaluate
from alerts.rules.revision import RevisionDetected
from storage import Observation

METRIC, PERIOD = "trac.detention.total", "2026-02-07"
LIVE = "2026-08-01T07:35:00.000000Z"


def at(day: str) -> str:
    return f"{day}T12:00:00.000000Z"


def chain(store) -> list[tuple[float, str, str | None]]:
    """(value, first seen day, superseded day) of every vintage, oldest first, after
    checking each points back at the one before it."""
    rows = list(
        store.db.query(
            "SELECT id, value, first_seen, superseded_at, previous_id FROM observations "
            "WHERE metric = ? AND period = ? ORDER BY first_seen",
            [METRIC, PERIOD],
        )
    )
    assert [row["previous_id"] for row in rows] == [None, *(row["id"] for row in rows[:-1])]
    return [(r["value"], r["first_seen"][:10], (r["superseded_at"] or "")[:10]) for r in rows]


def past(store, day: str, value: float):
    snapshot = store.snapshots.record(source="trac", url="u", http_status=200,
                                      body=f"{day}".encode(), fetched_at=at(day),
                                      archive="http://archive", archive_timestamp=day)  # fmt: skip
    return store.history.record_past(
        [Observation(METRIC, PERIOD, value)], snapshot_id=snapshot.id, at=at(day)
    )


def test_captures_in_any_order_before_a_live_crawl_make_the_history_crawls_would_have(store):
    store.observations.upsert([Observation(METRIC, PERIOD, 68289)], snapshot_id=None, at=LIVE)
    assert past(store, "2026-04-10", 68290).new  # before the live value: a new first vintage
    assert past(store, "2026-02-10", 68289).new
    result = past(store, "2026-03-01", 68289)  # between two: same as the one before it
    assert result.unchanged == 1
    assert chain(store) == [
        (68289, "2026-02-10", "2026-04-10"),
        (68290, "2026-04-10", "2026-08-01"),
        (68289, "2026-08-01", ""),
    ]
    assert past(store, "2026-06-01", 68289).revised  # same as the live one: it was known then
    assert chain(store) == [
        (68289, "2026-02-10", "2026-04-10"),
        (68290, "2026-04-10", "2026-06-01"),
        (68289, "2026-06-01", ""),
    ]
    as_of = {day: store.observations.series(METRIC, as_of=at(day))[0].value
             for day in ("2026-03-01", "2026-05-01", "2026-07-01")}  # fmt: skip
    assert as_of == {"2026-03-01": 68289, "2026-05-01": 68290, "2026-07-01": 68289}
    assert store.observations.series(METRIC, as_of=at("2026-01-01")) == []
    assert [r.new_value for r in store.observations.revisions(since="2026-01-01")] == [
        68289, 68290
    ]  # fmt: skip


def test_a_live_value_known_earlier_is_split_around_a_capture_that_said_otherwise(store):
    live = store.snapshots.record(source="trac", url="u", http_status=200, body=b"live",
                                  fetched_at=LIVE)  # fmt: skip
    store.observations.upsert([Observation(METRIC, PERIOD, 68289)], snapshot_id=live.id, at=LIVE)
    past(store, "2026-02-10", 68289)  # the live value, known since then
    assert chain(store) == [(68289, "2026-02-10", "")]
    past(store, "2026-04-10", 68290)  # ... but not in April: it came back with the live crawl
    assert chain(store) == [
        (68289, "2026-02-10", "2026-04-10"),
        (68290, "2026-04-10", "2026-08-01"),
        (68289, "2026-08-01", ""),
    ]


def test_live_fetches_ignore_archived_captures(store):
    store.snapshots.record(source="trac", url="u", http_status=200, body=b"old",
                           fetched_at=at("2026-02-10"), archive="http://archive",
                           archive_timestamp="20260210120000")  # fmt: skip
    assert store.snapshots.latest("trac", "u") is None  # no conditional GET on a capture
    assert store.snapshots.first_live("trac") is None
    live = store.snapshots.record(source="trac", url="u", http_status=200, body=b"new")
    assert store.snapshots.latest("trac", "u").id == live.id
    assert store.snapshots.archived("trac", "http://archive") == {
        ("u", "20260210120000"): store.snapshots.for_source("trac")[0].sha256
    }


def test_a_backfill_run_is_not_a_crawl_the_schedule_counts(store):
    crawl = store.runs.start("trac", trigger="schedule")
    store.runs.finish(crawl, "ok")
    backfill = store.runs.start("trac", trigger="backfill")
    store.runs.finish(backfill, "ok")
    assert store.stats.last_started()["trac"] == store.runs.get(crawl).started_at


def test_alerts_about_captures_are_history_even_when_a_daemon_evaluates_them(store):
    """A daemon running beside a backfill may evaluate its captures first: still past."""
    rules = {"revised": RevisionDetected(name="revised", channels=("desk",))}
    assert evaluate(store, rules) == []  # the rule starts at the present
    past(store, "2026-02-10", 68289)
    past(store, "2026-04-10", 68290)
    assert evaluate(store, rules) == []
    [event] = store.db.query("SELECT kind, period, historical FROM events")
    assert event == {"kind": "notice", "period": PERIOD, "historical": 1}
    assert store.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0
