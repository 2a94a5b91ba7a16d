"""Small parts users see the effect of: year-earlier periods, figures in alerts, and the
outbox lease that lets a crashed deliverer's message be retried."""

import pytest

from core.formatting import number
from core.periods import Period


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("2024-06-03", "2023-06-03"),
        ("2024-06", "2023-06"),
        ("FY2024", "FY2023"),
        ("2024-Q2", "2023-Q2"),
        ("2024", "2023"),
        ("2024-02-29", None),
        ("total", None),
    ],
)
def test_year_earlier(period, expected):
    shifted = Period(period).year_earlier()
    assert (shifted.text if shifted else None) == expected


@pytest.mark.parametrize(
    ("value", "shown"),
    [(3596229.0, "3,596,229"), (2612.43, "2,612.43"), (0.0042, "0.0042"), (56.1, "56.1"),
     (0.25, "0.25"), (None, "n/a"), (-36.0, "-36")],
)  # fmt: skip
def test_figures_read_as_people_write_them(value, shown):
    assert number(value) == shown


def test_a_claimed_message_is_retried_after_its_lease_if_never_marked(store):
    store.outbox.enqueue(channel="c", key="k1", subject="s", payload={}, at="2030-01-01T00:00:00Z")
    [claimed] = store.outbox.claim_due(
        now="2030-01-01T00:00:00Z", lease_until="2030-01-01T00:05:00Z"
    )
    assert claimed.attempts == 1
    # The deliverer dies here. Another one finds nothing until the lease ends...
    assert store.outbox.claim_due(now="2030-01-01T00:04:00Z", lease_until="x") == []
    # ...then takes it again, counting the attempt.
    [again] = store.outbox.claim_due(now="2030-01-01T00:05:00Z", lease_until="2030-01-01T00:10:00Z")
    assert (again.id, again.attempts) == (claimed.id, 2)
