"""`crossings metrics` on an 80-column terminal answers "what is it now": every metric id
whole (it is what the user types next), the latest value and period, the change, the
revisions and what a rule on it measures; --wide still shows every column."""

import io
import json
from datetime import UTC

import pytest
from click.testing import CliRunner

from core.formatting import number
from jobs.cli import cli
from jobs.cli.output import emit
from tests.query.sample import DAILY, Sample


def run(sample: Sample, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(sample.config.path), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_metrics_at_80_columns_answer_now(sample: Sample, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    shown = run(sample, "metrics")
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 80, shown
    assert "…" not in shown
    header = lines[1].split()
    assert header[:5] == ["period", "value", "change", "revisions", "measure"], shown
    ids = [row["metric"] for row in json.loads(run(sample, "metrics", "--json"))]
    assert [line for line in lines if line in ids] == ids  # each id whole, on its own line
    figures = lines[lines.index(DAILY) + 1].split()
    days = json.loads(run(sample, "series", DAILY, "--rule", "week_high", "--json"))
    latest = days[-1]
    assert figures[:2] == [latest["period"], number(latest["value"])]
    assert " ".join(figures[4:7]) == f"7-day mean {number(latest['7-day mean'])}", shown
    said = " ".join(shown.split())
    assert "more columns: as_of," in said and "--wide shows them" in said  # said, not hidden


def test_metrics_wide_shows_every_column(sample: Sample, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    header = run(sample, "metrics", "--wide").splitlines()[0].split()
    assert {"metric", "previous_period", "change_pct", "as_of", "label", "measure"} <= set(header)


@pytest.mark.parametrize("width", ["60", "80", "120"])
def test_a_long_id_is_never_cut(monkeypatch, width: str) -> None:
    monkeypatch.setenv("COLUMNS", width)
    long_id = "cbp.table.southwest_border_total_apprehensions_unaccompanied_children"
    rows = [{"metric": long_id, "period": "2025-08", "value": 6321.0, "label": "x" * 70}]
    out = io.StringIO()
    emit(rows, "table", columns=["metric", "period", "value", "label"], zone=UTC, out=out,
         key="metric")  # fmt: skip
    lines = out.getvalue().splitlines()
    assert long_id in lines
    assert max(len(line) for line in lines if line != long_id) <= int(width), out.getvalue()
    assert "6,321" in out.getvalue()
