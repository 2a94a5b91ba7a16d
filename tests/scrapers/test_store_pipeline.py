"""The store pipeline writes a page and its run's end in one transaction: a run whose end
cannot be written leaves none of its page's values behind, and ends `failed` with the
reason (a real crawl child, a real local server, a real SQLite file)."""

from jobs.runners.local import LocalRunner
from storage import Store
from tests.configs import write_config
from tests.scrapers.pages import page_bytes
from tests.scrapers.server import Route, Site

SOURCE = """
[sources.table]
kind = "table"
url = "{url}/reports/695/"
caption = "Table 1."
columns = ["Class", "Case Type"]
metric = "trac.completions.{{row}}"
"""
# Stands for a write that fails as the run is closed (a full disk, a lock never released).
REFUSE_OK = """CREATE TRIGGER refuse_ok BEFORE UPDATE OF status ON runs
               WHEN NEW.status = 'ok' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"""


def test_a_run_that_cannot_be_closed_leaves_no_values_and_fails_with_its_reason(tmp_path):
    site = Site()
    site.routes["/reports/695/"] = Route(page_bytes("report-695.html"))
    try:
        config = write_config(tmp_path, SOURCE.format(url=site.url))
        with Store(tmp_path / "crossings.db") as store:
            store.db.execute(REFUSE_OK)
        (result,) = LocalRunner(config).crawl_sync(["table"])
    finally:
        site.close()
    assert result.status == "failed"
    assert "could not store" in result.reason and "refused by the test" in result.reason
    with Store(tmp_path / "crossings.db", read_only=True) as store:
        assert store.db.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 0
        assert store.db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] == 0
        assert store.runs.get(result.run_id).status == "failed"


def test_a_page_and_its_run_end_are_stored_together(tmp_path):
    site = Site()
    site.routes["/reports/695/"] = Route(page_bytes("report-695.html"))
    try:
        config = write_config(tmp_path, SOURCE.format(url=site.url))
        (result,) = LocalRunner(config).crawl_sync(["table"])
    finally:
        site.close()
    assert result.status == "ok" and result.values_new == 54
    with Store(tmp_path / "crossings.db", read_only=True) as store:
        run = store.runs.get(result.run_id)
        assert run.status == "ok" and run.values_new == 54 and run.finished_at
        assert store.db.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 54
