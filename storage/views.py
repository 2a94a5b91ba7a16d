"""Read models as SQL views: each SELECT below is the one text of a query that more than
one reader needs. `ensure_views` makes them views in the file whenever a writer opens it
(for Datasette's canned queries, datasette/metadata.yml, and for anyone's own SQL), and
storage reads them through `with_views` as `WITH name AS (...)`, so a read-only open of a
file that no writer has brought up to date yet still answers. Views hold no data, so they
follow this text instead of a numbered migration."""

from core.status import FAILURES
from storage.database import sqlite_utils, transaction
from storage.runs import sql_list

VIEWS = {
    # The newest period of every metric with its current value and when it was last seen
    # published (as_of).
    "latest_values": """
        WITH ranked AS (
            SELECT metric, period, value, unit, last_seen,
                   ROW_NUMBER() OVER (PARTITION BY metric ORDER BY period DESC) AS rank
            FROM observations WHERE superseded_at IS NULL
        )
        SELECT ranked.metric, metrics.label, ranked.period, ranked.value, ranked.unit,
               ranked.last_seen AS as_of
        FROM ranked LEFT JOIN metrics ON metrics.name = ranked.metric
        WHERE ranked.rank = 1""",
    # Every vintage of every value with the fetch it came from.
    "value_history": """
        SELECT o.id, o.metric, o.period, o.value, o.unit, o.first_seen, o.superseded_at,
               o.snapshot_id, s.url, s.fetched_at
        FROM observations o LEFT JOIN snapshots s ON s.id = o.snapshot_id""",
    # Every revision: the value a source replaced and the one it published instead.
    "revisions": """
        SELECT new.id, new.metric, new.period, old.value AS old_value,
               new.value AS new_value, new.value - old.value AS change,
               old.first_seen AS old_first_seen, new.first_seen AS revised_at,
               old.snapshot_id AS old_snapshot_id, new.snapshot_id AS new_snapshot_id
        FROM observations new JOIN observations old ON old.id = new.previous_id""",
    "firing_alerts": """
        SELECT rule, series, state, since, value, period, last_notified_at
        FROM alert_state WHERE state = 'firing'""",
    # Crawls that failed (network, HTTP) or broke (the page changed shape).
    "failed_runs": f"""
        SELECT id, source, status, started_at, finished_at, reason
        FROM runs WHERE status IN ({sql_list(FAILURES)})""",
}


def with_views(*names: str) -> str:
    """`WITH name AS (...), ...` for the views a storage query reads."""
    return "WITH " + ", ".join(f"{name} AS ({VIEWS[name]})" for name in names)


def ensure_views(db: sqlite_utils.Database) -> None:
    """Create each view, or replace one whose text differs from VIEWS (a newer crossings)."""
    stored = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall())
    for name, select in VIEWS.items():
        create = f"CREATE VIEW {name} AS {select}"
        if stored.get(name) != create:
            with transaction(db):
                db.execute(f"DROP VIEW IF EXISTS {name}")
                db.execute(create)
