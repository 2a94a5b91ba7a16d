"""One filled database for the whole session: every query test only reads it."""

import pytest

from jobs.config import load
from storage import Store
from tests.query.sample import CONFIG, FAILING_SOURCE, Sample, fail, fill


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """One filled database for the whole session: every query test only reads it."""
    folder = tmp_path_factory.mktemp("query")
    (folder / "crossings.toml").write_text(CONFIG, encoding="utf-8")
    config = load(folder / "crossings.toml")
    with Store(config.database) as store:
        ids = fill(store)
    return Sample(config, config.database, ids)


@pytest.fixture(scope="session")
def troubled(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """The sample with one more source, whose last run failed with a long reason: it is
    tried again soon, and its reason is the longest text on the overview."""
    folder = tmp_path_factory.mktemp("troubled")
    (folder / "crossings.toml").write_text(CONFIG + FAILING_SOURCE, encoding="utf-8")
    config = load(folder / "crossings.toml")
    with Store(config.database) as store:
        ids = fill(store)
        fail(store)
    return Sample(config, config.database, ids)
