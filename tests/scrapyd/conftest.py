import pytest

from tests.scrapyd.nodes import PASSWORD, USERNAME, ScrapydNode


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    """Two Scrapyd nodes, shared by a module's tests."""
    base = tmp_path_factory.mktemp("nodes")
    started = []
    try:
        for name in ("a", "b"):
            started.append(ScrapydNode(base / name))
        yield started
    finally:
        for node in started:
            node.stop()


@pytest.fixture
def node_credentials(monkeypatch):
    """The nodes' username and password, where the config says to find them."""
    monkeypatch.setenv("SCRAPYD_USERNAME", USERNAME)
    monkeypatch.setenv("SCRAPYD_PASSWORD", PASSWORD)
