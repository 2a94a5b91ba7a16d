"""Storage's SQL classes run statuses as RunStatus does: each finished status, stored as a
real run, is counted as a failure, a success or a site that answered exactly when the
vocabulary (storage/runs.py) says so, and no SQL outside it spells a status by hand."""

import re
from pathlib import Path

import pytest

from core.status import FAILURES, FINAL, REACHED_SITE, SUCCEEDED, RunStatus
from storage import Store

STORAGE = Path(__file__).parent.parent / "storage"


@pytest.fixture(params=FINAL)
def ended(request, tmp_path):
    """A source whose last run ended `status`, after one that failed; and the store."""
    status = request.param
    with Store(tmp_path / "crossings.db") as store:
        for then in (RunStatus.FAILED, status):
            store.runs.finish(store.runs.start("s"), then, reason=f"ended {then}")
        yield status, store


def test_failures_and_successes_follow_the_vocabulary(ended):
    status, store = ended
    [health] = store.queries.source_health()
    assert health.status == status
    assert health.failures == 1 + (status in FAILURES)
    assert (health.last_ok is not None) == status.succeeded == (status in SUCCEEDED)
    assert ("s" in store.stats.last_success()) == status.succeeded
    listed = [row["status"] for row in store.db.query("SELECT status FROM failed_runs ORDER BY id")]
    assert listed == [RunStatus.FAILED] + ([status] if status in FAILURES else [])


def test_a_failed_streak_ends_where_the_site_answered(ended):
    status, store = ended
    store.runs.finish(store.runs.start("s"), RunStatus.FAILED, reason="again")
    runs = [RunStatus.FAILED, status, RunStatus.FAILED]
    since = max((i for i, run in enumerate(runs) if run in REACHED_SITE), default=-1) + 1
    streak, _ = store.stats.failing()["s"]
    assert streak == runs[since:].count(RunStatus.FAILED)


def test_interrupted_runs_are_left_out_of_catch_up_and_durations(ended):
    status, store = ended
    cut = status is RunStatus.INTERRUPTED
    assert store.stats.durations((3600.0,)).count == 2 - cut
    assert store.stats.last_started()["s"] == store.runs.recent("s")[1 if cut else 0].started_at


def test_storage_spells_no_run_status_outside_the_vocabulary():
    spelled = re.compile("'(" + "|".join(RunStatus) + ")'")
    for path in STORAGE.glob("*.py"):
        if path.name in ("runs.py", "migrations.py"):  # the vocabulary; shipped migrations
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not spelled.search(line), f"{path.name}:{number} spells a status: {line}"
