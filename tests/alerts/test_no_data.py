"""A rule on a metric with no stored values never looks healthy: `crossings alerts` says
"no data yet", and a backtest says there is nothing to replay, not "no firing"."""

from pathlib import Path

from click.testing import CliRunner

from jobs.cli import cli
from jobs.config import load
from storage import Observation, Store

CONFIG = """
[settings]
database = "crossings.db"

[sources.mine]
kind = "table"
url = "https://example.org/table.html"
metric = "my.table.{row}"
schedule = "6h"

[rules.typo]
kind = "threshold"
metric = "my.tabel.encounters"
above = 4000
waits_for_metric = true

[rules.right]
kind = "threshold"
metric = "my.table.encounters"
above = 4000
"""


def test_a_rule_that_never_had_data_says_so(tmp_path: Path) -> None:
    path = tmp_path / "crossings.toml"
    path.write_text(CONFIG, encoding="utf-8")
    with Store(load(path).database) as store:
        store.observations.upsert(
            [Observation("my.table.encounters", "2025-01", 10.0, "")], snapshot_id=None
        )
    shown = CliRunner().invoke(cli, ["--config", str(path), "alerts"])
    assert shown.exit_code == 0, shown.output
    [typo] = [line for line in shown.output.splitlines() if line.strip().startswith("typo")]
    assert "no data yet: no stored values of my.tabel.encounters" in typo
    [right] = [line for line in shown.output.splitlines() if line.strip().startswith("right")]
    assert "no data yet" not in right
    replayed = CliRunner().invoke(cli, ["--config", str(path), "alerts", "backtest", "typo"])
    assert replayed.exit_code == 0, replayed.output
    assert "typo: no stored values of my.tabel.encounters" in replayed.output
    assert "no firing" not in replayed.output
    quiet = CliRunner().invoke(cli, ["--config", str(path), "alerts", "backtest", "right"])
    assert "right: no firing or resolution in the stored history" in quiet.output
