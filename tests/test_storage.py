"""Storage on a real SQLite file: bodies stored once, vintages kept, migrations in place."""

import contextlib
import dataclasses
import inspect
import json
import sqlite3

import pytest

from storage import NewsItem, Observation, StorageError, Store, checkpoint
from storage.alerts import _payload_json
from storage.database import connect
from storage.migrations import LATEST, migrate, schema_version
from storage.observations import Change

JAN = "2025-01-01T00:00:00.000000Z"
FEB = "2025-02-01T00:00:00.000000Z"


def test_same_body_twice_costs_one_body_row(store):
    body = b"<table><tr><td>3,596,229</td></tr></table>" * 50
    first = store.snapshots.record(source="trac", url="http://x/a", http_status=200, body=body)
    second = store.snapshots.record(source="trac", url="http://x/a", http_status=200, body=body)
    counts = store.snapshots.counts()
    assert (counts["snapshots"], counts["bodies"]) == (2, 1)
    assert first.new_body and not second.new_body
    assert store.snapshots.body(second.sha256) == body
    assert counts["stored_bytes"] < counts["body_bytes"] / 5  # compressed


def test_a_304_points_at_the_previous_body_and_stores_none(store):
    body = b"hello" * 100
    first = store.snapshots.record(
        source="s", url="http://x/a", http_status=200, body=body, etag='"v1"'
    )
    unchanged = store.snapshots.record(source="s", url="http://x/a", http_status=304, body=None)
    assert unchanged.sha256 == first.sha256
    assert unchanged.etag == '"v1"'
    assert store.snapshots.counts()["bodies"] == 1


def test_a_revised_value_keeps_both_vintages(store):
    first = store.observations.upsert(
        [Observation("trac.backlog", "2025-05", 3_546_863)], snapshot_id=None, at=JAN
    )
    revised = store.observations.upsert(
        [Observation("trac.backlog", "2025-05", 3_550_000)], snapshot_id=None, at=FEB
    )
    assert [c.kind for c in first.new] == ["new"]
    assert [(c.previous, c.value) for c in revised.revised] == [(3_546_863, 3_550_000)]
    assert [p.value for p in store.observations.series("trac.backlog")] == [3_550_000]
    before = store.observations.series("trac.backlog", as_of="2025-01-15T00:00:00Z")
    assert [p.value for p in before] == [3_546_863]
    assert len(store.observations.history("trac.backlog", "2025-05")) == 2
    [revision] = store.observations.revisions(since=JAN)
    assert (revision.old_value, revision.new_value, revision.revised_at) == (
        3_546_863,
        3_550_000,
        FEB,
    )


def test_an_equal_value_is_unchanged_and_refreshes_last_seen(store):
    store.observations.upsert([Observation("m", "FY2024", 1.0)], snapshot_id=None, at=JAN)
    again = store.observations.upsert([Observation("m", "FY2024", 1.0)], snapshot_id=None, at=FEB)
    assert (again.new, again.revised, again.unchanged) == ([], [], 1)
    [point] = store.observations.series("m")
    assert (point.first_seen, point.last_seen) == (JAN, FEB)


def test_an_upsert_touches_only_the_periods_it_carries(store):
    """A daily run brings one new day per metric; the rest of each history stays as it was."""
    store.observations.upsert(
        [Observation(m, f"2024-01-{day:02d}", day) for m in ("a", "b") for day in (1, 2, 3)],
        snapshot_id=None,
        at=JAN,
    )
    result = store.observations.upsert(
        [
            Observation("a", "2024-01-03", 3),  # unchanged
            Observation("b", "2024-01-03", 30),  # revised
            Observation("a", "2024-01-04", 4),  # new
        ],
        snapshot_id=None,
        at=FEB,
    )
    assert (len(result.new), len(result.revised), result.unchanged) == (1, 1, 1)
    a = {p.period: p.last_seen for p in store.observations.series("a")}
    assert a == {"2024-01-01": JAN, "2024-01-02": JAN, "2024-01-03": FEB, "2024-01-04": FEB}
    assert [p.value for p in store.observations.series("b")] == [1, 2, 30]


def test_flags_survive_and_a_flag_change_is_a_new_vintage(store):
    store.observations.upsert(
        [Observation("m", "FY2022", 375_842, flags=("partial", "footnote:*"))],
        snapshot_id=None,
        at=JAN,
    )
    [point] = store.observations.series("m")
    assert point.flags == ("footnote:*", "partial")
    final = store.observations.upsert([Observation("m", "FY2022", 375_842)], snapshot_id=None)
    assert len(final.revised) == 1


def test_series_bounds_and_as_of_before_anything_is_empty(store):
    store.observations.upsert(
        [Observation("m", f"2024-{month:02d}", month) for month in range(1, 13)],
        snapshot_id=None,
        at=FEB,
    )
    periods = [p.period for p in store.observations.series("m", since="2024-03", until="2024-05")]
    assert periods == ["2024-03", "2024-04", "2024-05"]
    assert store.observations.series("m", as_of=JAN) == []


def test_metric_summaries_show_each_metrics_two_newest_periods_and_revision_count(store):
    store.observations.upsert(
        [Observation("cbp.sw", "2025-03", 100.0), Observation("cbp.sw", "2025-04", 80.0),
         Observation("cbp.sw", "2025-05", 90.0), Observation("trac.backlog", "2025-05", 7.0)],
        snapshot_id=None, at=JAN,
    )  # fmt: skip
    for at, value in ((FEB, 85.0), ("2025-03-01T00:00:00.000000Z", 95.0)):
        store.observations.upsert(
            [Observation("cbp.sw", "2025-04", value)], snapshot_id=None, at=at
        )
    rows = store.queries.metric_summaries()
    picked = [(r.metric, r.period, r.value, r.previous_period, r.previous_value,
               r.change_pct, r.revisions) for r in rows]  # fmt: skip
    assert picked == [
        ("cbp.sw", "2025-05", 90.0, "2025-04", 95.0, -5.3, 2),
        ("trac.backlog", "2025-05", 7.0, None, None, None, 0),
    ]
    assert [r.metric for r in store.queries.metric_summaries("trac.*")] == ["trac.backlog"]
    assert [r.metric for r in store.queries.metric_summaries("sw")] == ["cbp.sw"]
    assert store.queries.metric_names() == ["cbp.sw", "trac.backlog"]
    assert [store.queries.has_metric(m) for m in ("cbp.sw", "trac.backlog", "cbp")] == [
        True, True, False,
    ]  # fmt: skip


def test_news_is_deduplicated_by_guid_and_searchable(store):
    item = NewsItem(source="cbp", guid="g-1", title="CBP Releases June 2024 Monthly Update")
    assert len(store.news.add([item], snapshot_id=None)) == 1
    assert store.news.add([item], snapshot_id=None) == []
    assert [n.guid for n in store.news.search("monthly update")] == ["g-1"]
    assert store.news.search('"; DROP TABLE news; --') == []


def test_an_older_database_migrates_in_place_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    db = connect(path)  # a version-1 file, as an older crossings made it
    migrate(db, upto=1)
    db.execute(
        "INSERT INTO observations (metric, period, value, first_seen, last_seen) "
        "VALUES ('m', '2024-06', 83532, ?, ?)",
        [JAN, JAN],
    )
    db.close()
    with Store(path) as store:
        assert schema_version(store.db) == LATEST
        assert [p.value for p in store.observations.series("m")] == [83_532]
        assert "outbox" in store.db.table_names()


def test_wal_is_on_and_read_only_connections_refuse_writes(tmp_path):
    path = tmp_path / "c.db"
    Store(path).close()
    with Store(path, read_only=True) as reader:
        assert reader.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        with pytest.raises(sqlite3.OperationalError):
            reader.db.execute("DELETE FROM runs")


def test_a_checkpoint_copies_what_the_wal_holds_into_the_database_file(tmp_path):
    """The rule judging worker checkpoints when its snapshot ends (`alerts.parallel`): what
    was committed meanwhile is then in the database file itself, not only in the WAL."""
    path = tmp_path / "c.db"
    Store(path).close()  # the schema, in the file

    def in_file() -> list[tuple[str]]:  # the file alone, its WAL ignored
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?immutable=1", uri=True)) as db:
            return db.execute("SELECT source FROM runs").fetchall()

    with Store(path) as store:
        store.runs.start("written", trigger="manual")
        assert in_file() == []  # a small commit leaves it in the WAL
        checkpoint(path)
        assert in_file() == [("written",)]


def test_read_only_open_of_a_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(StorageError, match="does not exist yet"):
        Store(tmp_path / "missing.db", read_only=True)


def test_runs_record_outcomes_and_interrupted_ones(store):
    run = store.runs.start("trac", pid=123)
    assert store.runs.get(run).status == "running"
    assert store.runs.mark_interrupted(reason="the daemon was killed", pid=123) == 1
    assert store.runs.get(run).status == "interrupted"
    with pytest.raises(ValueError, match="a run ends as one of"):
        store.runs.finish(run, "weird")


@pytest.mark.parametrize("cls", [Observation, Change])
def test_hand_written_initialisers_keep_to_the_dataclass_fields(cls):
    """Observation and Change write their fields in an __init__ of their own (cheaper than
    the frozen dataclass's): it must take exactly the fields, with the same defaults, and
    build what the dataclass would (equal, hashable, still frozen)."""
    fields = dataclasses.fields(cls)
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [p.name for p in parameters] == [f.name for f in fields]
    assert [p.default for p in parameters] == [
        inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default for f in fields
    ]
    if cls is Observation:
        made = Observation("m", "2025", 1.0, "percent", ("partial",))
        assert vars(made) == {"metric": "m", "period": "2025", "value": 1.0, "unit": "percent",
                              "flags": ("partial",)}  # fmt: skip
    else:
        made = Change("revised", "m", "2025", 2.0, 1.0)
        assert vars(made) == {"kind": "revised", "metric": "m", "period": "2025", "value": 2.0,
                              "previous": 1.0, "flags": ()}  # fmt: skip
    assert made == dataclasses.replace(made) and hash(made) == hash(dataclasses.replace(made))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.value = 3.0


def test_values_as_columns_are_the_rows_read_one_by_one(store):
    """`Observations.values` and `tail` turn rows into columns by index: the same values,
    flags, snapshot ids and provenance as the rows, in period order, revisions left out."""
    snapshot = store.snapshots.record(source="s", url="http://x/a", http_status=200, body=b"x")
    upsert = store.observations.upsert
    upsert([Observation("m", f"2025-01-{d:02d}", d / 3, "u", ("estimated",) * (d % 3 == 0))
            for d in range(20, 0, -1)], snapshot_id=snapshot.id, at=JAN)  # fmt: skip
    upsert([Observation("m", "2025-01-05", -0.0), Observation("m", "2025-01-07", 1e308)],
           snapshot_id=None, at=FEB)  # fmt: skip
    upsert([Observation("other", "2025-01-01", 5.0)], snapshot_id=None, at=FEB)
    rows = store.db.conn.execute(
        """SELECT period, value, flags, snapshot_id, id, first_seen FROM observations
           WHERE metric = 'm' AND superseded_at IS NULL ORDER BY period"""
    ).fetchall()
    read = store.observations.values("m", provenance=True)
    assert list(zip(read.periods, read.values, read.flags, read.snapshot_ids, read.ids,
                    read.first_seen, strict=True)) == rows  # fmt: skip
    assert [repr(v) for v in read.values] == [repr(row[1]) for row in rows]  # -0.0 kept
    plain = store.observations.values("m", since="2025-01-10")
    assert list(zip(plain.periods, plain.values, plain.flags, plain.snapshot_ids,
                    strict=True)) == [row[:4] for row in rows[9:]]  # fmt: skip
    assert (plain.ids, plain.first_seen) == ([], [])
    tail = store.observations.tail("m", after="2025-01-18", before=2)
    assert tail.periods == [row[0] for row in rows[16:]]
    assert tail.snapshot_ids == [row[3] for row in rows[16:]]
    assert len(store.observations.values("nothing")) == 0


@pytest.mark.parametrize(
    "value", [None, 0.0, -0.0, 1 / 3, 1e308, 5e-324, -2.5, float("nan"), float("inf"), 3, True]
)
@pytest.mark.parametrize("text", ["", 'a "quoted" \\ line\n', "é \u2013 ✓ 😀 \x00\x1f"])
def test_a_historical_payload_is_json_dumps_byte_for_byte(value, text):
    for period in (None, "2025-01-01", text):
        told = {"condition": text, "value": value, "period": period, "historical": True}
        assert _payload_json(told) == json.dumps(told)
    for other in ({"condition": text, "value": value, "period": None, "historical": False},
                  {"value": value, "condition": text, "period": None, "historical": True},
                  {"condition": text}):  # fmt: skip
        assert _payload_json(other) == json.dumps(other)


def test_derived_inputs_written_as_pairs_are_kept_by_the_migration_to_lists(tmp_path):
    """Migration 9 folds `derived_inputs` (a row per value and input) into one row per
    value; the pairs read the same through the view of that name, provenance too."""
    path = tmp_path / "old.db"
    db = connect(path)  # a version-8 file with derived values and their inputs
    migrate(db, upto=8)
    insert = """INSERT INTO observations (id, metric, period, value, first_seen, last_seen)
                VALUES (?, ?, ?, ?, ?, ?)"""
    for i in range(1, 4):
        db.execute(insert, [i, "m", f"2024-06-0{i}", 10.0 * i, JAN, JAN])
    db.execute(insert, [10, "d", "2024-06-03", 60.0, FEB, FEB])
    db.execute(insert, [11, "d", "2024-06-02", 30.0, FEB, FEB])
    pairs = [(10, 3), (10, 1), (10, 2), (11, 2), (11, 1)]
    db.conn.executemany("INSERT INTO derived_inputs VALUES (?, ?)", pairs)
    db.conn.commit()
    db.close()
    with Store(path) as store:
        assert schema_version(store.db) >= 9
        found = store.db.execute("SELECT * FROM derived_inputs ORDER BY 1, 2").fetchall()
        assert found == sorted(pairs)
        assert [p.period for p in store.derived.inputs(10)] == ["2024-06-01", "2024-06-02",
                                                              "2024-06-03"]  # fmt: skip
        assert "derived_inputs" not in store.db.table_names()  # a view now


def test_a_single_write_commits_alone_and_is_undone_with_the_transaction_it_is_in(tmp_path):
    """A run's start and end and a 304's row are single statements, written without a
    savepoint of their own: alone, each is committed at once; in a transaction that fails,
    each is undone with it."""
    path = tmp_path / "crossings.db"
    with Store(path) as store:
        kept = store.runs.start("kept", trigger="manual")
        store.runs.finish(kept, "ok")
        store.snapshots.record(source="kept", url="http://x/k", http_status=304, body=None)
        with pytest.raises(RuntimeError), store.transaction():
            lost = store.runs.start("lost", trigger="manual")
            store.runs.finish(lost, "ok")
            store.snapshots.record(source="lost", url="http://x/l", http_status=304, body=None)
            raise RuntimeError("a crash in the middle of a batch")
        with Store(path, read_only=True) as other:  # what another process sees
            runs = [(run.source, run.status) for run in other.runs.recent()]
            snapshots = other.db.execute("SELECT source FROM snapshots").fetchall()
    assert runs == [("kept", "ok")]
    assert snapshots == [("kept",)]
