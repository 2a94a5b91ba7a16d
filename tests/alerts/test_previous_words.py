"""What an alert email calls the earlier figure says which figure it is: the value as first
published (a revision), the rule's measure a period before (a threshold), the base a change
is measured from - never a bare "Previous" that means one thing here and another there."""

import pytest

from alerts.delivery import message_for
from alerts.engine import evaluate
from alerts.rules.change import Change
from alerts.rules.revision import RevisionDetected
from alerts.rules.threshold import Threshold
from storage import Observation, Store

METRIC = "demo.swb.daily_encounters"


def emails(store: Store, rules: dict) -> list[tuple[str, str]]:
    evaluate(store, rules)
    return [(message_for(row).text, message_for(row).html) for row in store.outbox.recent()]


def stored(store: Store, values: dict[str, float]) -> None:
    store.observations.upsert(
        [Observation(METRIC, period, value, "encounters") for period, value in values.items()],
        snapshot_id=None,
    )


DAYS = {f"2024-06-{day:02d}": 6000 if day == 8 else 3000 for day in range(1, 9)}


@pytest.mark.parametrize(
    ("rule", "line", "cell"),
    [
        (Threshold(name="t", metric=METRIC, window=7, aggregate="mean", above=3100,
                   channels=("mail",)),
         "Previous 7-day mean: 3,000 (2024-06-07)", "Previous 7-day mean"),
        (Threshold(name="t", metric=METRIC, above=5000, channels=("mail",)),
         "Previous value: 3,000 (2024-06-07)", "Previous value"),
        (Change(name="c", metric=METRIC, rise=50, by="percent", channels=("mail",)),
         "Compared with: 3,000 (2024-06-07)", "Compared with"),
    ],
)  # fmt: skip
def test_the_earlier_figure_is_named_for_what_it_is(store, rule, line: str, cell: str) -> None:
    stored(store, DAYS)
    [(text, html)] = emails(store, {rule.name: rule})
    assert line in text and "\nPrevious:" not in text, text
    assert f">{cell}</th>" in html


def test_a_revision_says_revised_from(store) -> None:
    rule = RevisionDetected(name="r", metric=METRIC, channels=("mail",))
    stored(store, {"2024-06-04": 4692})
    evaluate(store, {"r": rule})
    stored(store, {"2024-06-04": 5092})
    [(text, html)] = emails(store, {"r": rule})
    assert "Revised from: 4,692 (2024-06-04)" in text and ">Revised from</th>" in html
