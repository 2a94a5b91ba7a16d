"""Schema migrations. The database's `PRAGMA user_version` says how many have run; opening
a database made by an older crossings applies the rest in place, each in its own
transaction. Append new migrations; never edit one that has shipped."""

from dataclasses import dataclass

import sqlite_utils

from storage.errors import StorageError


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "sources, runs, snapshots and bodies, metrics, observations with vintages, news",
        """
        CREATE TABLE sources (
            name TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            url TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL
        );
        -- One crawl of one source. status: running | ok | unchanged | failed | broken | interrupted
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            trigger TEXT NOT NULL DEFAULT 'manual',
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            reason TEXT,
            requests INTEGER NOT NULL DEFAULT 0,
            bytes INTEGER NOT NULL DEFAULT 0,
            values_new INTEGER NOT NULL DEFAULT 0,
            values_revised INTEGER NOT NULL DEFAULT 0,
            values_unchanged INTEGER NOT NULL DEFAULT 0,
            news_new INTEGER NOT NULL DEFAULT 0,
            pid INTEGER
        );
        CREATE INDEX runs_by_source ON runs(source, started_at);
        CREATE INDEX runs_by_status ON runs(status);
        -- Fetched bodies, stored once per SHA-256 of the uncompressed bytes.
        CREATE TABLE bodies (
            sha256 TEXT PRIMARY KEY,
            codec TEXT NOT NULL,
            size INTEGER NOT NULL,
            stored_size INTEGER NOT NULL,
            content BLOB NOT NULL,
            created_at TEXT NOT NULL
        );
        -- One row per request. A 304 points at the body it confirmed and stores none.
        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES runs(id),
            source TEXT NOT NULL,
            url TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            http_status INTEGER NOT NULL,
            content_type TEXT,
            etag TEXT,
            last_modified TEXT,
            sha256 TEXT REFERENCES bodies(sha256),
            size INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX snapshots_by_url ON snapshots(source, url, fetched_at);
        CREATE INDEX snapshots_by_run ON snapshots(run_id);
        CREATE INDEX snapshots_by_body ON snapshots(sha256);
        CREATE TABLE metrics (
            name TEXT PRIMARY KEY,
            label TEXT NOT NULL DEFAULT '',
            unit TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        -- Every vintage of every value. The current one has superseded_at NULL; a revision
        -- inserts a new row pointing at the one it replaced (previous_id).
        CREATE TABLE observations (
            id INTEGER PRIMARY KEY,
            metric TEXT NOT NULL,
            period TEXT NOT NULL,
            value REAL,
            unit TEXT NOT NULL DEFAULT '',
            flags TEXT NOT NULL DEFAULT '',
            snapshot_id INTEGER REFERENCES snapshots(id),
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            superseded_at TEXT,
            previous_id INTEGER REFERENCES observations(id)
        );
        CREATE UNIQUE INDEX observations_current
            ON observations(metric, period) WHERE superseded_at IS NULL;
        CREATE INDEX observations_history ON observations(metric, period, first_seen);
        CREATE INDEX observations_revisions
            ON observations(first_seen) WHERE previous_id IS NOT NULL;
        CREATE TABLE news (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            guid TEXT NOT NULL UNIQUE,
            url TEXT NOT NULL DEFAULT '',
            title TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '',
            published_at TEXT,
            first_seen TEXT NOT NULL,
            snapshot_id INTEGER REFERENCES snapshots(id)
        );
        CREATE INDEX news_by_first_seen ON news(first_seen);
        CREATE VIRTUAL TABLE news_fts USING fts5(
            title, summary, content='news', content_rowid='id', tokenize='porter unicode61'
        );
        CREATE TRIGGER news_ai AFTER INSERT ON news BEGIN
            INSERT INTO news_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary);
        END;
        CREATE TRIGGER news_ad AFTER DELETE ON news BEGIN
            INSERT INTO news_fts(news_fts, rowid, title, summary)
                VALUES ('delete', old.id, old.title, old.summary);
        END;
        CREATE TRIGGER news_au AFTER UPDATE ON news BEGIN
            INSERT INTO news_fts(news_fts, rowid, title, summary)
                VALUES ('delete', old.id, old.title, old.summary);
            INSERT INTO news_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary);
        END;
        """,
    ),
    Migration(
        2,
        "alert state per rule and series, evaluation cursors, events, the outbox, silences",
        """
        -- state: inactive | firing | resolved. detail: JSON memory of the rule (counters).
        -- period: the last period evaluated for this series.
        CREATE TABLE alert_state (
            rule TEXT NOT NULL,
            series TEXT NOT NULL,
            state TEXT NOT NULL,
            since TEXT NOT NULL,
            value REAL,
            period TEXT,
            last_notified_at TEXT,
            detail TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (rule, series)
        );
        CREATE INDEX alert_state_by_state ON alert_state(state);
        -- How far each rule has read: observation and news ids, run finish time. A changed
        -- rule (fingerprint) starts again from the beginning.
        CREATE TABLE alert_cursors (
            rule TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            observation_id INTEGER NOT NULL DEFAULT 0,
            news_id INTEGER NOT NULL DEFAULT 0,
            run_finished_at TEXT NOT NULL DEFAULT '',
            evaluated_at TEXT NOT NULL
        );
        -- kind: firing | resolved | reminder | notice. `key` makes a second evaluation of
        -- the same change a no-op. silenced: recorded, but no outbox messages.
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            rule TEXT NOT NULL,
            series TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL,
            period TEXT,
            summary TEXT NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}',
            key TEXT NOT NULL UNIQUE,
            silenced INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX events_by_time ON events(at);
        CREATE INDEX events_by_rule ON events(rule, series, at);
        -- status: pending | sent | dead. One row per (event or digest, channel).
        -- payload: {"event": {...}} rendered at delivery, or {"message": {...}} pre-rendered.
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            event_id INTEGER REFERENCES events(id),
            digest TEXT,
            channel TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            subject TEXT NOT NULL DEFAULT '',
            payload TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT
        );
        CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
        CREATE INDEX outbox_by_digest ON outbox(digest, created_at);
        CREATE TABLE silences (
            id INTEGER PRIMARY KEY,
            rule TEXT NOT NULL,
            until TEXT NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        -- Digests list what arrived since the last one; source health reads finished runs.
        CREATE INDEX observations_by_first_seen ON observations(first_seen);
        CREATE INDEX runs_by_finished ON runs(finished_at);
        """,
    ),
    Migration(
        3,
        "revision rows by metric, so metric summaries count revisions without a table scan",
        """
        CREATE INDEX observations_revised_by_metric
            ON observations(metric) WHERE previous_id IS NOT NULL;
        """,
    ),
    Migration(
        4,
        "current values of a metric side by side, so a long series is read in one sweep",
        """
        -- Every column of the current rows (the rowid comes with any index): a series, a
        -- rule's tail or a chart reads one contiguous stretch of this index instead of rows
        -- spread over the whole file. About a third more file and a few tens of
        -- microseconds more per stored value, for reads about twice as fast.
        CREATE INDEX observations_current_rows ON observations(
            metric, period, value, unit, flags, snapshot_id, first_seen, last_seen,
            superseded_at, previous_id
        ) WHERE superseded_at IS NULL;
        """,
    ),
    Migration(
        5,
        "outbox messages remember when their retries began, so retrying has a horizon",
        """
        -- Set at a message's first failed attempt, cleared when it is queued again by hand;
        -- delivery gives up (dead) once retries have lasted [settings] retry_alerts_for.
        ALTER TABLE outbox ADD COLUMN retry_since TEXT;
        """,
    ),
    Migration(
        6,
        "historical and inhibited events; derived metrics with their inputs and cursors",
        """
        -- historical: a transition found in stored history when a rule first looked (never
        -- delivered). inhibited_by: the broken source that held it back (not delivered).
        ALTER TABLE events ADD COLUMN historical INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE events ADD COLUMN inhibited_by TEXT;
        -- Which input vintages each derived vintage was computed from.
        CREATE TABLE derived_inputs (
            observation_id INTEGER NOT NULL REFERENCES observations(id),
            input_id INTEGER NOT NULL REFERENCES observations(id),
            PRIMARY KEY (observation_id, input_id)
        ) WITHOUT ROWID;
        -- How far each derived metric has read its inputs; a changed expression starts over.
        CREATE TABLE derived_cursors (
            metric TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            observation_id INTEGER NOT NULL DEFAULT 0
        );
        """,
    ),
    Migration(
        7,
        "the remembered layout of each tabular source; a notice on a good run",
        """
        -- Headers (columns) and row labels as JSON lists, from the first good crawl (or
        -- the last one that was allowed to add rows or columns).
        CREATE TABLE layouts (
            source TEXT PRIMARY KEY,
            columns TEXT NOT NULL,
            rows TEXT NOT NULL,
            snapshot_id INTEGER REFERENCES snapshots(id),
            remembered_at TEXT NOT NULL
        );
        -- Something a good run has to say that alerts should carry (new rows stored).
        ALTER TABLE runs ADD COLUMN notice TEXT;
        """,
    ),
    Migration(
        8,
        "snapshots read from a web archive: which archive, and the capture's timestamp",
        """
        -- A capture fetched from a web archive by `crossings backfill`: `archive` is the
        -- archive's replay address (e.g. https://web.archive.org/web), `archive_timestamp`
        -- the capture's 14-digit timestamp; `fetched_at` is the capture time. NULL: live.
        ALTER TABLE snapshots ADD COLUMN archive TEXT;
        ALTER TABLE snapshots ADD COLUMN archive_timestamp TEXT;
        CREATE INDEX snapshots_archived ON snapshots(source, archive_timestamp)
            WHERE archive IS NOT NULL;
        """,
    ),
    Migration(
        9,
        "a derived value's inputs in one row (a 7-day mean over twenty years named 3.3 M)",
        """
        -- The input vintages of each derived vintage as one JSON array of ids (ascending,
        -- each once). One row per (vintage, input) made a first derivation of a 7-day mean
        -- write seven B-tree entries and fourteen foreign-key lookups per value, half its
        -- time. The pairs stay readable as before, as the view `derived_inputs`.
        CREATE TABLE derived_input_lists (
            observation_id INTEGER PRIMARY KEY REFERENCES observations(id),
            inputs TEXT NOT NULL
        );
        INSERT INTO derived_input_lists (observation_id, inputs)
            SELECT observation_id, json_group_array(input_id)
            FROM derived_inputs GROUP BY observation_id;
        DROP TABLE derived_inputs;
        CREATE VIEW derived_inputs AS
            SELECT d.observation_id, i.value AS input_id
            FROM derived_input_lists d, json_each(d.inputs) i;
        """,
    ),
)

LATEST = MIGRATIONS[-1].version


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def require(db: sqlite_utils.Database, version: int, what: str) -> None:
    """Refuse, with how to update the file, a read that would be unbearably slow without
    migration `version` (a read-only command never migrates)."""
    if (current := schema_version(db)) < version:
        file = db.execute("PRAGMA database_list").fetchone()[2]
        raise StorageError(
            f"database {file} was written by an older crossings (schema {current}; {what} "
            f"needs schema {version}: {MIGRATIONS[version - 1].description}); update it once "
            "with `crossings migrate` (a crawl or `crossings run` also does it), then try again"
        )


def migrate(db: sqlite_utils.Database, *, upto: int = LATEST) -> list[Migration]:
    """Apply every migration newer than the file's version (up to `upto`); return those run."""
    current = schema_version(db)
    if current > LATEST:
        raise StorageError(
            f"the database has schema version {current} but this crossings knows only up to "
            f"{LATEST}: upgrade crossings, or open a copy made by this version"
        )
    applied = []
    for migration in MIGRATIONS:
        if current < migration.version <= upto:
            db.conn.executescript(
                f"BEGIN IMMEDIATE;\n{migration.sql}\n"
                f"PRAGMA user_version = {migration.version};\nCOMMIT;"
            )
            applied.append(migration)
    return applied
