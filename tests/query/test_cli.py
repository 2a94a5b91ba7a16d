"""The query commands on a real database, in every output format."""

import contextlib
import csv
import io
import json
import os
import pty
import subprocess
import sys

import pytest
from click.testing import CliRunner

from jobs.cli import cli
from storage import Store
from storage.migrations import LATEST
from tests.query.sample import BACKLOG, Sample, fill

FORMATS = ("--table", "--csv", "--json", "--nl")


def run(sample: Sample, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(sample.config.path), *args])
    assert result.exit_code == 0, result.output
    return result.output


def fails(sample: Sample, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(sample.config.path), *args])
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    return result.output


def rows_of(output: str, fmt: str) -> list[dict[str, str]]:
    """Read any output format back into rows of text (table numbers without commas), so
    one expectation checks all four formats."""
    if fmt == "--table":
        lines = output.splitlines()
        header, rule, body = lines[0], lines[1], lines[2:]
        spans, start = [], 0
        for dashes in rule.split("  "):
            if dashes:
                spans.append((start, start + len(dashes)))
            start += len(dashes) + 2
        names = [header[a:b].strip() for a, b in spans]
        return [
            {n: line[a:b].strip().replace(",", "") for n, (a, b) in zip(names, spans, strict=True)}
            for line in body
        ]
    if fmt == "--csv":
        return list(csv.DictReader(io.StringIO(output)))
    records = (
        json.loads(output)
        if fmt == "--json"
        else [json.loads(line) for line in output.splitlines()]
    )
    return [{k: "" if v is None else str(v) for k, v in record.items()} for record in records]


# One table of cases: the command, then the rows (or a subset of each row) it must show.
CASES = [
    (["metrics", "backlog"],
     [{"metric": BACKLOG, "period": "2025-05", "value": "3546863", "previous_period": "2025-02",
       "previous_value": "3687750", "change": "-140887", "revisions": "1"}]),
    (["series", BACKLOG, "--since", "2025-02", "--until", "2025-05"],
     [{"period": "2025-02", "value": "3687750", "revisions": "1", "replaced_value": "3685200"},
      {"period": "2025-05", "value": "3546863", "revisions": "0", "replaced_value": ""}]),
    (["series", BACKLOG, "--as-of", "2025-04-01", "--since", "2025"],
     [{"period": "2025-02", "value": "3685200", "revisions": "0"}]),
    (["revisions", "--since", "2025-01-01"],
     [{"metric": BACKLOG, "period": "2025-02", "old_value": "3685200", "new_value": "3687750",
       "change": "2550", "old_snapshot_id": "1", "new_snapshot_id": "2"}]),
    (["news", "--search", "backlog"],
     [{"source": "trac_whatsnew",
       "title": "Immigration court backlog <b>falls</b> as new cases drop"}]),
    (["runs", "cbp_encounters"],
     [{"source": "cbp_encounters", "status": "broken",
       "reason": "table header 'Encounter Count' not found"}]),
    (["sources"],
     [{"source": "cbp_encounters", "status": "broken", "failures": "1"},
      {"source": "trac_quickfacts", "status": "ok", "runs": "2", "failures": "0"}]),
]  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("args", "expected"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_listing_in_every_format(sample: Sample, args, expected, fmt: str) -> None:
    rows = rows_of(run(sample, *args, fmt), fmt)
    assert len(rows) == len(expected)
    for row, wanted in zip(rows, expected, strict=True):
        assert {key: row[key] for key in wanted} == wanted


def test_table_is_the_default_and_readable(sample: Sample) -> None:
    output = run(sample, "series", BACKLOG, "--since", "2025-05")
    assert output == run(sample, "series", BACKLOG, "--since", "2025-05", "--table")
    assert "3,546,863" in output
    assert "2025-06-20 06:17 UTC" in output  # first seen, in the configured zone


def test_sources_show_the_next_scheduled_run(sample: Sample) -> None:
    rows = {row["source"]: row for row in rows_of(run(sample, "sources", "--json"), "--json")}
    assert rows["trac_quickfacts"]["next_run"].endswith("T06:17:00.000000Z")


def test_unknown_metric_suggests_the_close_name(sample: Sample) -> None:
    output = fails(sample, "series", "trac.court.backlg")
    assert "did you mean trac.court.backlog?" in output


def test_bad_time_says_which_forms_work(sample: Sample) -> None:
    output = fails(sample, "revisions", "--since", "last tuesday")
    assert "--since" in output and "7d" in output


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM observations",
        "UPDATE observations SET value = 0",
        "INSERT INTO runs (source, started_at) VALUES ('x', 'y')",
        "DROP TABLE news",
        "CREATE TABLE mine (a)",
        "PRAGMA user_version = 99",
    ],
)
def test_query_refuses_writes_and_changes_nothing(sample: Sample, sql: str) -> None:
    output = fails(sample, "query", sql)
    assert "refused: this query would change the database" in output
    with Store(sample.database, read_only=True) as store:
        assert store.queries.export_count([BACKLOG]) == 7
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert store.db["news"].count == 2


@pytest.mark.parametrize("sql", ["VACUUM INTO '{path}'", "ATTACH DATABASE '{path}' AS other"])
def test_query_writes_no_other_file(sample: Sample, tmp_path, sql: str) -> None:
    target = tmp_path / "copy.db"
    output = fails(sample, "query", sql.format(path=target))
    assert "refused: queries run read-only and cannot ATTACH or VACUUM INTO" in output
    assert not target.exists()


def test_query_with_named_parameters(sample: Sample) -> None:
    sql = "SELECT period, value FROM observations WHERE metric = :m AND period = :p"
    rows = rows_of(
        run(sample, "query", sql, "-p", "m", BACKLOG, "-p", "p", "2025-05", "--nl"), "--nl"
    )
    assert rows == [{"period": "2025-05", "value": "3546863"}]


def test_query_reports_sql_errors_in_one_line(sample: Sample) -> None:
    output = fails(sample, "query", "SELECT nope FROM observations")
    assert output.strip() == "Error: SQL error: no such column: nope"


@pytest.mark.parametrize("fmt", ["csv", "json", "nl"])
def test_export_streams_current_values_with_provenance(sample: Sample, fmt: str) -> None:
    output = run(sample, "export", "trac.*", "cbp.swb.usbp.encounters", "--format", fmt)
    rows = rows_of(output, f"--{fmt}")
    assert len(rows) == 7 + 5
    may = next(row for row in rows if row["metric"] == BACKLOG and row["period"] == "2025-05")
    assert may["value"] == "3546863"
    assert may["snapshot_id"] == str(sample.snapshot_ids["second"])


def test_export_of_an_unknown_metric_fails_clearly(sample: Sample) -> None:
    assert "no stored values for metric 'nothing.*'" in fails(sample, "export", "nothing.*")


def test_snapshot_prints_the_body_exactly(sample: Sample) -> None:
    result = CliRunner().invoke(
        cli, ["--config", str(sample.config.path), "snapshot", str(sample.snapshot_ids["second"])]
    )
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"<html><head><script>")
    assert result.stdout_bytes.endswith(b"second")


def test_snapshot_info_and_missing_snapshot(sample: Sample) -> None:
    info = rows_of(
        run(sample, "snapshot", str(sample.snapshot_ids["cbp"]), "--info", "--json"), "--json"
    )
    assert info[0]["content_type"] == "text/csv"
    assert info[0]["http_status"] == "200"
    assert "no snapshot 999" in fails(sample, "snapshot", "999")


def test_missing_database_is_one_clear_line(tmp_path) -> None:
    config = tmp_path / "crossings.toml"
    config.write_text('[settings]\ndatabase = "nothing-here.db"\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "metrics"])
    assert result.exit_code == 1
    assert "does not exist yet" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_metrics_on_an_older_database_says_how_to_migrate_and_migrate_does_it(tmp_path) -> None:
    from storage.database import connect
    from storage.migrations import migrate

    db = connect(tmp_path / "old.db")  # schema 2: no index to count revisions by metric
    migrate(db, upto=2)
    db.execute(
        "INSERT INTO observations (metric, period, value, first_seen, last_seen) "
        "VALUES ('m', '2024-06', 83532, '2024-07-01', '2024-07-01')"
    )
    db.conn.commit()
    db.close()
    config = tmp_path / "crossings.toml"
    config.write_text('[settings]\ndatabase = "old.db"\n')
    refused = CliRunner().invoke(cli, ["--config", str(config), "metrics"])
    assert refused.exit_code == 1
    assert "schema 2" in refused.output and "`crossings migrate`" in refused.output
    migrated = CliRunner().invoke(cli, ["--config", str(config), "migrate"])
    assert migrated.exit_code == 0, migrated.output
    assert f"schema 2 -> {LATEST}" in migrated.output
    listed = CliRunner().invoke(cli, ["--config", str(config), "metrics", "--json"])
    assert listed.exit_code == 0 and '"m"' in listed.output
    again = CliRunner().invoke(cli, ["--config", str(config), "migrate"])
    assert "up to date" in again.output


def test_export_shows_progress_on_a_terminal_only(tmp_path) -> None:
    (tmp_path / "crossings.toml").write_text('[settings]\ndatabase = "crossings.db"\n')
    with Store(tmp_path / "crossings.db") as store:
        fill(store)
    command = [sys.executable, "-m", "jobs", "--config", str(tmp_path / "crossings.toml"),
               "export", "trac.*", "--format", "nl"]  # fmt: skip
    leader, follower = pty.openpty()
    with os.fdopen(leader, "rb", buffering=0) as terminal:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=follower, check=True)
        os.close(follower)
        shown = b""
        with contextlib.suppress(OSError):  # EIO once the writer side is closed
            while chunk := terminal.read(4096):
                shown += chunk
    assert b"Exporting" in shown and b"100%" in shown
    assert len(done.stdout.splitlines()) == 7  # stdout holds only the rows
    piped = subprocess.run(command, capture_output=True, check=True)
    assert piped.stderr == b""


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["runs", "nosuchsource"], "no source named 'nosuchsource' (known: cbp_encounters, "
                                   "trac_quickfacts)"),
        (["runs", "trac_quickfact"], "did you mean 'trac_quickfacts'?"),
        (["news", "--source", "nowhere"], "no source named 'nowhere'"),
        (["series", BACKLOG, "--since", "yesterday"],
         "has no period between yesterday and the last: its periods run from '2017-09' to "
         "'2025-05'"),
        (["series", "trac.court.backlogg"], "did you mean trac.court.backlog?"),
        (["series", BACKLOG, "--rule", "nope"], "no rule named 'nope' (rules on "
                                                "'trac.court.backlog': backlog_high)"),
        (["series", BACKLOG, "--rule", "week_high"], "rule 'week_high' does not watch"),
        (["series", BACKLOG, "--as-of", "someday"], "--as-of"),
        (["revisions", "--metric", "nope.metric"], "no stored values for metric 'nope.metric'"),
        (["revisions", "--since", "last tuesday"], "--since"),
        (["alerts", "events", "--rule", "nope"], "no rule named 'nope' (known: backlog_high, "
                                                 "week_high)"),
        (["notify", "test", "pager"], "no channel named 'pager' (known: none configured)"),
        (["digest", "weekly"], "no digest named 'weekly'"),
    ],
)  # fmt: skip
def test_bad_arguments_are_one_line_errors_naming_what_is_known(
    sample: Sample, args: list[str], said: str
) -> None:
    shown = fails(sample, *args)
    assert said in " ".join(shown.split()), shown
    assert len([line for line in shown.splitlines() if line.strip()]) == 1, shown


def test_tables_fit_the_terminal_and_wide_shows_everything(sample: Sample, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    fitted = run(sample, "sources")
    assert max(len(line) for line in fitted.splitlines()) <= 80, fitted
    assert "more columns:" in fitted and "--wide shows them" in fitted
    wide = run(sample, "sources", "--wide")
    assert "news_new" in wide.splitlines()[0] and "more columns" not in wide
    assert "table header 'Encounter Count' not found" in wide
