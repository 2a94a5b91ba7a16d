"""Numbers and periods as the sources print them: one table of cases each, one test body."""

import pytest

from core.periods import Period, PeriodError, fiscal_month, fiscal_year_of
from scrapers.numbers import NumberError, parse_number

NUMBERS = [
    # text, value, unit, flags
    ("3,546,863", 3546863, "", ()),
    ("0", 0, "", ()),
    ("42", 42, "", ()),
    ("1,234.5", 1234.5, "", ()),
    ("56.1%", 56.1, "percent", ()),
    ("-36%", -36, "percent", ()),
    ("134%", 134, "percent", ()),
    ("+5", 5, "", ()),
    ("\u22122", -2, "", ()),  # a typographic minus sign
    ("1,234*", 1234, "", ("footnote:*",)),
    ("375,842**", 375842, "", ("footnote:**",)),
    ("2,004[1]", 2004, "", ("footnote:[1]",)),
    ("12.7%*", 12.7, "percent", ("footnote:*",)),
    (" 1\u00a0234 ", 1234, "", ()),  # a non-breaking space as thousands separator
    (2098, 2098, "", ()),  # JSON numbers pass through
    (43.2, 43.2, "", ()),
    ("-", None, "", ()),
    ("\u2014", None, "", ()),  # em dash
    ("\u2013", None, "", ()),  # en dash
    ("n/a", None, "", ()),
    ("N/A", None, "", ()),
    ("", None, "", ()),
    ("   ", None, "", ()),
    (None, None, "", ()),
]


@pytest.mark.parametrize(("text", "value", "unit", "flags"), NUMBERS)
def test_numbers_are_normalised_and_missing_is_never_zero(text, value, unit, flags):
    number = parse_number(text)
    assert (number.value, number.unit, number.flags) == (value, unit, flags)


@pytest.mark.parametrize("text", ["abc", "12abc", "1,23", "1.2.3", "--5", True, "Total"])
def test_text_that_is_not_a_number_is_an_error_not_a_guess(text):
    with pytest.raises(NumberError):
        parse_number(text)


PERIODS = [
    # label, canonical, flags
    ("FY 2022*", "FY2022", ("partial", "footnote:*")),
    ("FY 2022", "FY2022", ()),
    ("FY2024", "FY2024", ()),
    ("FY24", "FY2024", ()),
    ("2025 (FYTD)", "FY2025", ("partial",)),
    ("2025 (Third Quarter)", "FY2025", ("partial", "through:Q3")),  # EOIR's tables
    ("2025 (Second Quarter)", "FY2025", ("partial", "through:Q2")),
    ("2025 (Third\nQuarter)", "FY2025", ("partial", "through:Q3")),  # wrapped in a PDF cell
    ("FY 2025 Q3", "FY2025", ("partial", "through:Q3")),
    ("FY25 (Q1)", "FY2025", ("partial", "through:Q1")),
    ("2025 (Fourth Quarter)", "FY2025", ("through:Q4",)),  # the whole year
    ("2024", "2024", ()),
    ("2024-06", "2024-06", ()),
    ("2024-6", "2024-06", ()),
    ("2024-06-03", "2024-06-03", ()),
    ("06/03/2024", "2024-06-03", ()),
    ("09/21/2025", "2025-09-21", ()),
    ("May 31, 2025", "2025-05-31", ()),
    ("Sept. 3, 2024", "2024-09-03", ()),
    ("(27 Jun 2025)", "2025-06-27", ()),
    ("Oct-24", "2024-10", ()),
    ("Sept-25", "2025-09", ()),
    ("June-25", "2025-06", ()),
    ("June 2024", "2024-06", ()),
    ("Jul-Sep 2011", "2011-Q3", ()),
    ("Oct-Dec 2011", "2011-Q4", ()),
    ("Q1 2020", "2020-Q1", ()),
]


@pytest.mark.parametrize(("label", "canonical", "flags"), PERIODS)
def test_periods_have_one_canonical_form(label, canonical, flags):
    period = Period.parse(label)
    assert (period.text, period.flags) == (canonical, flags)


@pytest.mark.parametrize(
    "label",
    [
        "Total",
        "Region",
        "02/30/2024",
        "Foo-24",
        "Jan-Mar-Apr 2020",
        "2025 (Fifth Quarter)",
        "FY 2025 Q5",
    ],
)
def test_labels_that_are_not_periods_are_errors(label):
    with pytest.raises(PeriodError):
        Period.parse(label)


@pytest.mark.parametrize(
    ("fiscal_year", "month", "calendar"),
    [(2024, "OCT", "2023-10"), (2024, "DEC", "2023-12"), (2024, "JAN", "2024-01"),
     (2024, "JUN", "2024-06"), (2025, "SEP", "2025-09")],
)  # fmt: skip
def test_fiscal_months_map_to_calendar_months(fiscal_year, month, calendar):
    assert fiscal_month(fiscal_year, month) == calendar
    assert fiscal_year_of(calendar) == f"FY{fiscal_year}"
