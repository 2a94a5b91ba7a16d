"""The database opens in Datasette as it is, with the shipped metadata, while crossings
writes to it: canned queries answer over HTTP."""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from core.checked import free_port
from storage import Observation, Store
from tests.query.sample import BACKLOG, fill

pytest.importorskip("datasette", reason="the `datasette` extra is not installed")
METADATA = Path(__file__).parents[2] / "datasette" / "metadata.yml"


@pytest.fixture
def datasette(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    """Datasette on the sample data, with crossings holding the file open for writing."""
    database = tmp_path / "crossings.db"
    writer = Store(database)
    fill(writer)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", str(database), "--metadata", str(METADATA),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/-/versions.json", timeout=5)
                break
            except requests.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(server.stderr.read().decode()) from None
                time.sleep(0.2)
        yield url, writer
    finally:
        server.terminate()
        server.wait(timeout=30)
        writer.close()


def canned(url: str, name: str, **params: str) -> list[dict]:
    response = requests.get(
        f"{url}/crossings/{name}.json", params={**params, "_shape": "array"}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_canned_queries_answer_while_crossings_writes(datasette) -> None:
    url, writer = datasette
    latest = canned(url, "latest_values", search="backlog")
    assert [(row["period"], row["value"]) for row in latest] == [("2025-05", 3546863)]
    history = canned(url, "value_history", metric=BACKLOG, period="2025-02")
    assert [row["value"] for row in history] == [3685200, 3687750]  # revised once
    assert canned(url, "firing_alerts")[0]["rule"] == "backlog_high"
    assert canned(url, "runs_that_broke")[0]["reason"] == "table header 'Encounter Count' not found"
    # The daemon's side: a write in WAL mode while Datasette has the file open.
    with writer.transaction():
        writer.observations.upsert(
            [Observation(BACKLOG, "2025-06", 3500000.0, "cases")], snapshot_id=None
        )
        assert canned(url, "latest_values", search="backlog")[0]["period"] == "2025-05"
    assert canned(url, "latest_values", search="backlog")[0]["period"] == "2025-06"
    assert canned(url, "revisions_this_week") == []


def test_metadata_describes_the_tables(datasette) -> None:
    url, _ = datasette
    metadata = requests.get(f"{url}/-/metadata.json", timeout=30).json()
    database = metadata["databases"]["crossings"]
    assert set(database["queries"]) >= {"latest_values", "revisions_this_week", "firing_alerts",
                                        "runs_that_broke", "value_history"}  # fmt: skip
    assert "superseded_at NULL" in database["tables"]["observations"]["description"]
