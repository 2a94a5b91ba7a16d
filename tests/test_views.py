"""The Datasette canned queries read storage's own views (storage/views.py), so their SQL
cannot drift from what crossings stores: each one selects from a view and runs on a fresh
database; a file opened read-only before any writer updated it still answers."""

import re
from pathlib import Path

import yaml

from storage import Store

METADATA = Path(__file__).parent.parent / "datasette" / "metadata.yml"
PARAMS = {"search": "", "metric": "m", "period": "2024-06"}


def test_every_canned_query_reads_a_view_storage_made(tmp_path):
    queries = yaml.safe_load(METADATA.read_text())["databases"]["crossings"]["queries"]
    with Store(tmp_path / "crossings.db") as store:
        views = {
            row[0] for row in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'view'")
        }
        assert views >= {
            "latest_values",
            "value_history",
            "revisions",
            "firing_alerts",
            "failed_runs",
        }
        for name, query in queries.items():
            sql = query["sql"]
            read = set(re.findall(r"\bFROM\s+(\w+)", sql, re.IGNORECASE))
            assert read and read <= views, f"{name} reads {read - views} directly"
            assert "JOIN" not in sql.upper(), name
            wanted = {key: PARAMS[key] for key in re.findall(r":(\w+)", sql)}
            store.db.execute(sql, wanted).fetchall()


def test_revisions_read_the_same_through_storage_and_the_view(tmp_path):
    from storage import Observation

    with Store(tmp_path / "crossings.db") as store:
        snapshot = store.snapshots.record(source="s", url="u", http_status=200, body=b"x")
        store.observations.upsert([Observation("m", "2024-06", 1.0)], snapshot_id=snapshot.id)
        store.observations.upsert([Observation("m", "2024-06", 2.5)], snapshot_id=snapshot.id)
        [revision] = store.observations.revisions(since="2000-01-01")
        [row] = store.db.query("SELECT * FROM revisions")
        assert (revision.old_value, revision.new_value) == (row["old_value"], row["new_value"])
        assert row["change"] == 1.5


def test_a_writer_replaces_a_stale_view_and_a_reader_needs_none(tmp_path):
    from storage import Observation

    path = tmp_path / "crossings.db"
    with Store(path) as store:
        snapshot = store.snapshots.record(source="s", url="u", http_status=200, body=b"x")
        store.observations.upsert([Observation("m", "2024-06", 1.0)], snapshot_id=snapshot.id)
        store.observations.upsert([Observation("m", "2024-06", 2.0)], snapshot_id=snapshot.id)
        store.db.execute("DROP VIEW revisions")
        store.db.execute("DROP VIEW firing_alerts")
        store.db.execute("CREATE VIEW firing_alerts AS SELECT 1 AS stale")
    with Store(path, read_only=True) as reader:  # an older file: no views, or old ones
        assert [r.new_value for r in reader.observations.revisions(since="2000")] == [2.0]
        assert reader.queries.firing_alerts() == []
    with Store(path) as writer:
        [row] = writer.db.query("SELECT new_value FROM revisions")
        assert row == {"new_value": 2.0}
        assert "rule" in writer.db["firing_alerts"].columns_dict
