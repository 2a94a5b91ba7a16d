"""The Period type: where a period sits on a chart's time axis, and its year-earlier twin."""

import pytest

from core.periods import Period


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("2024", 2024.5),
        ("2024-07", 2024 + 6.5 / 12),
        ("2024-Q1", 2024.125),
        ("2024-Q4", 2024.875),
        ("FY2024", 2024.25),
        ("2024-01-01", 2024 + 0.5 / 366),
        ("2024-02-30", None),
        ("week 12", None),
    ],
)
def test_position_places_every_canonical_form_on_the_time_axis(text, position):
    assert Period(text).position == (pytest.approx(position) if position else None)


def test_quarters_sit_between_the_months_they_span():
    q2 = Period("2024-Q2").position
    assert Period("2024-04").position < q2 < Period("2024-06").position
    assert Period("2024-05").position == pytest.approx(q2)


def test_a_parsed_label_shifts_a_year_keeping_its_form():
    period = Period.parse("Apr - Jun 2011")
    assert period.text == "2011-Q2"
    assert period.year_earlier() == Period("2010-Q2")


@pytest.mark.parametrize(
    ("text", "first", "end"),
    [
        ("2024-02-29", "2024-02-29", "2024-03-01"),
        ("2024-02", "2024-02-01", "2024-03-01"),
        ("2024-12", "2024-12-01", "2025-01-01"),
        ("2024-Q4", "2024-10-01", "2025-01-01"),
        ("FY2024", "2023-10-01", "2024-10-01"),
        ("2024", "2024-01-01", "2025-01-01"),
    ],
)
def test_the_days_a_period_covers(text, first, end):
    days = Period(text).days
    assert days is not None and (days[0].isoformat(), days[1].isoformat()) == (first, end)


def test_text_that_is_not_a_dated_period_covers_no_days():
    assert Period("2024-13").days is None and Period("week 3").days is None
    assert Period("2024-06-03").is_day and not Period("2024-06").is_day


@pytest.mark.parametrize(
    ("label", "last_day"),
    [
        ("2025 (Second Quarter)", "2025-03-31"),
        ("2025 (Third Quarter)", "2025-06-30"),
        ("FY 2025 Q1", "2024-12-31"),
        ("2025 (FYTD)", "2025-09-30"),  # no quarter said: the whole year's end
        ("FY 2024", "2024-09-30"),
        ("Q2 2024", "2024-06-30"),
        ("2024-02", "2024-02-29"),
        ("06/03/2024", "2024-06-03"),
    ],
)
def test_a_stock_is_as_of_the_last_day_its_period_covers(label, last_day):
    period = Period.parse(label)
    assert period.last_day is not None and period.last_day.isoformat() == last_day


def test_two_quarters_of_one_fiscal_year_are_one_period_told_apart_by_their_flags():
    second, third = Period.parse("2025 (Second Quarter)"), Period.parse("FY 2025 Q3")
    assert second.text == third.text == "FY2025"
    assert (second.through_quarter, third.through_quarter) == (2, 3)
    assert second.flags != third.flags and "partial" in second.flags
    assert Period.parse("FY 2025").through_quarter is None
