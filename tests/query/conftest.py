"""One filled database for the whole session: every query test only reads it."""

import pytest

from jobs.config import load
from storage import Store
from tests.query.sample import CONFIG, Sample, fill


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """One filled database for the whole session: every query test only reads it."""
    folder = tmp_path_factory.mktemp("query")
    (folder / "crossings.toml").write_text(CONFIG, encoding="utf-8")
    config = load(folder / "crossings.toml")
    with Store(config.database) as store:
        ids = fill(store)
    return Sample(config, config.database, ids)
