"""One chart definition for the web page, the alert email and the digest: what a rule
measures (a 7-day mean), its levels, the periods its alert was firing, revised values,
and ticks that fit the series' periods."""

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from PIL import Image

from alerts.delivery import message_for
from alerts.engine import evaluate
from alerts.rule import drawings_for
from alerts.rules.threshold import Threshold
from jobs.demo.site import daily_series
from series.charts import FIRES, RESOLVES, figure, png
from series.drawing import Chart, LevelLine, chart, metric_chart, spans
from storage import MetricEntry, Observation

DAILY = "demo.swb.daily_encounters"
WEEK_HIGH = Threshold(name="week-high", metric=DAILY, window=7, aggregate="mean", above=4000,
                      resolve_below=3000, channels=("hook",))  # fmt: skip
MEAN_COLOUR = (0x1F, 0x3A, 0x93)  # series/charts.py MEASURED[0]
BAND_COLOUR = (0xF5, 0xB7, 0xB1)  # series/charts.py BAND, at half opacity on white
THIS_YEAR = datetime.now(UTC).year


def fill(store, days: int, at: datetime) -> None:
    store.catalog.describe_metrics([MetricEntry(DAILY, "Encounters per day", "encounters")])
    store.observations.upsert(
        [Observation(DAILY, day.isoformat(), float(v)) for day, v in daily_series(days)],
        snapshot_id=None,
    )
    evaluate(store, {"week-high": WEEK_HIGH}, now=at)


def test_the_chart_draws_the_mean_the_levels_and_the_firing_period(store):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    fill(store, 9, start)  # the mean passed 4,000 on day 7
    fill(store, 40, start + timedelta(hours=1))  # day 8 revised; the mean fell below 3,000
    drawn = metric_chart(store, DAILY, drawings_for([WEEK_HIGH], DAILY))
    [mean] = drawn.measured
    assert mean.label == "7-day mean"
    assert mean.values[:6] == [None] * 6 and mean.values[6] == pytest.approx(4528.571, abs=0.01)
    assert [(level.label, level.value) for level in drawn.levels] == [
        ("fires above 4,000", 4000), ("resolves below 3,000", 3000)]  # fmt: skip
    [band] = drawn.bands
    assert (drawn.periods[band.first], drawn.periods[band.last]) == ("2024-06-02", "2024-06-14")
    assert [drawn.periods[i] for i, r in enumerate(drawn.revised) if r] == ["2024-06-04"]
    assert drawn.value_label == "daily value"


def test_the_alert_email_carries_that_chart(store):
    fill(store, 10, datetime(2026, 1, 1, tzinfo=UTC))
    [row] = store.outbox.claim_due(now="2099-01-01T00:00:00.000000Z",
                                   lease_until="2099-01-01T00:05:00.000000Z")  # fmt: skip
    message = message_for(row, store=store)
    assert "7-day mean 4,528.57 is above 4,000" in message.text
    assert "Rule:       fires above 4,000, resolves below 3,000" in message.text
    [image] = message.images.values()
    with Image.open(BytesIO(image)) as opened:
        rgb = opened.convert("RGB").tobytes()  # getdata() is deprecated from Pillow 13
    pixels = [tuple(rgb[i : i + 3]) for i in range(0, len(rgb), 3)]
    assert sum(1 for p in pixels if _near(p, MEAN_COLOUR, 30)) > 200, "no 7-day mean line"
    assert sum(1 for p in pixels if _near(p, (0xFA, 0xDB, 0xD8), 12)) > 2000, "no firing band"


def test_the_email_chart_labels_each_level_on_its_axis_in_the_level_s_colour(store):
    """As the web chart does: 4,000 (where it fires) in red and 3,000 (where it resolves)
    in green among the round values of the y axis."""
    fill(store, 40, datetime(2026, 1, 1, tzinfo=UTC))
    drawn = figure(metric_chart(store, DAILY, drawings_for([WEEK_HIGH], DAILY)))
    drawn.canvas.draw()
    [axes] = drawn.axes
    labels = {label.get_text(): label.get_color() for label in axes.get_yticklabels()}
    assert labels["4,000"] == FIRES and labels["3,000"] == RESOLVES, labels
    assert len(labels) >= 4, labels  # round values besides the levels


def test_a_level_takes_the_place_of_round_ticks_too_close_to_it():
    levels = [LevelLine("fires above 4,250", 4250, False), LevelLine("resolves", 2900, True)]
    drawn = Chart("t", ["2024-01"], [1.0], "value", levels=levels)
    assert drawn.value_ticks([2000, 3000, 4000, 5000, 6000]) == [2000, 2900, 4250, 5000, 6000]
    assert drawn.value_ticks([]) == [2900, 4250]
    assert Chart("t", [], [], "value").value_ticks([1, 2]) == [1, 2]


def _near(pixel, colour, tolerance) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


@pytest.mark.parametrize(
    ("periods", "ticks"),
    [
        (["2024-06-01", "2024-06-02"], ["Jun 1, 2024", "Jun 2, 2024"]),  # not this year
        ([f"{THIS_YEAR}-06-01", f"{THIS_YEAR}-06-02"], ["Jun 1", "Jun 2"]),
        (["2024-12-31", "2025-01-01"], ["Dec 31, 2024", "Jan 1, 2025"]),
        (["2024-05", "2024-06"], ["May 2024", "Jun 2024"]),
        (["FY2023", "FY2024"], ["FY2023", "FY2024"]),
        (["2011-Q3", "2011-Q4"], ["2011-Q3", "2011-Q4"]),
    ],
)
def test_ticks_fit_the_periods_and_are_distinct(periods, ticks):
    drawn = chart("t", [(p, 1.0) for p in periods], [])
    assert drawn.ticks() == ticks
    steps = drawn.as_json()["x"]
    assert steps[1] - steps[0] == 1  # whole periods apart, whatever the grain


def test_a_series_of_mixed_forms_is_placed_in_years():
    placed = chart("t", [("2023", 1.0), ("2024-06", 2.0)], []).as_json()
    assert placed["axis"] == "years" and placed["x"][0] < placed["x"][1]


def test_spans_pair_firing_with_resolved_and_leave_the_last_open():
    history = [("r", "firing", "2024-06-02"), ("r", "resolved", "2024-06-15"),
               ("r", "firing", "2024-07-01")]  # fmt: skip
    assert [(s.start, s.end) for s in spans(history)] == [
        ("2024-06-02", "2024-06-15"), ("2024-07-01", None)]  # fmt: skip


def test_the_painter_draws_a_legend_entry_for_every_part():
    drawn = chart("t", [(f"2024-06-{d:02d}", 4000.0 + d * 50) for d in range(1, 15)],
                  drawings_for([WEEK_HIGH], DAILY),
                  spans=spans([("week-high", "firing", "2024-06-08")]))  # fmt: skip
    assert png(drawn).startswith(b"\x89PNG")
    assert [b.label for b in drawn.bands] == ["alert firing"]
