"""Shared fixtures: a real SQLite file per test."""

from pathlib import Path

import pytest

from storage import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "crossings.db") as opened:
        yield opened
