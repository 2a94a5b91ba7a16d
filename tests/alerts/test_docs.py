"""Every TOML example in docs/alerts.md is a valid config (so the docs cannot drift from
the code), and the proclamation example finds the days the text says."""

import re
import tomllib
from pathlib import Path

import pytest

from jobs.config import parse

DOCS = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"
BLOCKS = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_every_toml_example_in_the_alert_docs_is_a_valid_config(block, tmp_path):
    document = tomllib.loads(block)
    document.setdefault("channels", {}).setdefault("newsroom", {"kind": "console"})
    config = parse(document, tmp_path / "docs.toml")
    assert config.rules or config.metrics or config.channels or config.digests


def test_the_docs_show_the_proclamation_in_both_variants():
    rules = [tomllib.loads(block).get("rules", {}) for block in BLOCKS]
    named = {name: table for found in rules for name, table in found.items()}
    assert named["border-proclamation"]["resolve_for"] == "28d"
    assert "resolve_for" not in named["border-proclamation-original"]
