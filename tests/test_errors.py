"""One exception root: SQLite's errors stay inside storage as StorageError, and the CLI
shows any crossings error as one line instead of a traceback."""

import sqlite3

import pytest
from click.testing import CliRunner

from alerts.message import DeliveryError
from core.errors import CrossingsError
from jobs.cli import cli
from jobs.config import ConfigError
from scrapers.extract import LayoutError
from storage import StorageError, Store


def test_every_crossings_error_shares_the_root():
    for error in (StorageError, ConfigError, DeliveryError, LayoutError):
        assert issubclass(error, CrossingsError)


def test_a_broken_table_is_a_storage_error_naming_the_file(tmp_path):
    path = tmp_path / "crossings.db"
    with Store(path) as store:
        store.db.execute("DROP TABLE outbox")
        store.db.execute("DROP TABLE observations")
        with pytest.raises(StorageError, match=f"database {path}: no such table: outbox"):
            store.outbox.counts()
        with pytest.raises(StorageError) as raised:
            list(store.queries.export_rows(["m"]))  # a generator: wrapped as it runs
        assert not isinstance(raised.value, sqlite3.Error)


def test_the_cli_shows_a_database_that_is_not_one_as_one_line(tmp_path):
    (tmp_path / "crossings.db").write_bytes(b"this is not a database, just text " * 100)
    (tmp_path / "crossings.toml").write_text('[settings]\ndatabase = "crossings.db"\n')
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "crossings.toml"), "runs"])
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: database ") and "not a database" in line
    assert "Traceback" not in result.output
