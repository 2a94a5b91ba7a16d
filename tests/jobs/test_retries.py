"""When a source whose run failed is tried again: backoff, never after its schedule."""

from datetime import UTC, datetime, timedelta

import pytest

from jobs.scheduling.catchup import overdue
from jobs.scheduling.schedule import retry_at

FAILED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTES = [(1, 5), (2, 15), (3, 60), (4, 180), (5, 360), (9, 360)]


@pytest.mark.parametrize(("failures", "minutes"), MINUTES)
def test_retries_back_off(failures: int, minutes: int) -> None:
    far = FAILED + timedelta(days=7)
    assert retry_at(failures, FAILED, far) == FAILED + timedelta(minutes=minutes)


def test_the_schedule_comes_first_when_it_is_sooner() -> None:
    assert retry_at(3, FAILED, FAILED + timedelta(minutes=30)) is None
    assert retry_at(1, FAILED, None) == FAILED + timedelta(minutes=5)  # no schedule left


def test_at_start_up_a_source_whose_last_run_failed_is_overdue() -> None:
    ran = {"fine": FAILED, "broken-link": FAILED}
    late = overdue({"fine": "6d", "broken-link": "6d", "new": "6d"}, ran, UTC,
                   now=FAILED + timedelta(hours=1), failing={"broken-link"})  # fmt: skip
    assert late == ["broken-link", "new"]  # "fine" ran an hour ago: not due for 6 days
