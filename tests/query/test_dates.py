"""One date parser for every option that takes a date or an age (jobs/when.py): the forms
it accepts, the ones it refuses in one line, and the commands that use it."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from jobs.cli import cli
from jobs.when import FORMS, parse_when, within
from tests.query.sample import BACKLOG, Sample

NOW = datetime(2025, 6, 20, 15, 30, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")

# text -> first day, last day it names (in New York, where NOW is 2025-06-20 11:30)
SPANS = [
    ("2025-03-01", date(2025, 3, 1), date(2025, 3, 1)),
    ("2025-03", date(2025, 3, 1), date(2025, 3, 31)),
    ("2025-Q2", date(2025, 4, 1), date(2025, 6, 30)),
    ("2025", date(2025, 1, 1), date(2025, 12, 31)),
    ("FY2025", date(2024, 10, 1), date(2025, 9, 30)),
    ("fy 2025", date(2024, 10, 1), date(2025, 9, 30)),
    ("today", date(2025, 6, 20), date(2025, 6, 20)),
    ("Yesterday", date(2025, 6, 19), date(2025, 6, 19)),
    ("7d", date(2025, 6, 13), date(2025, 6, 13)),
    ("2025-03-01T12:00", date(2025, 3, 1), date(2025, 3, 1)),
]


@pytest.mark.parametrize(("text", "first", "last"), SPANS, ids=[s[0] for s in SPANS])
def test_each_form_names_its_days(text: str, first: date, last: date) -> None:
    when = parse_when(text, NEW_YORK, now=NOW)
    assert (when.first_day(), when.last_day()) == (first, last)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("03/10/2025", "ambiguous"),
        ("10/3/25", "ambiguous"),
        ("2025-13-01", "not a calendar date"),
        ("2025-02-30", "not a calendar date"),
        ("2025-13", "not a calendar date"),
        ("last tuesday", "not a date or time"),
        ("", "not a date or time"),
    ],
)
def test_anything_else_is_refused_listing_the_forms(text: str, said: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_when(text, UTC, now=NOW)
    message = str(raised.value)
    assert said in message and FORMS in message and "\n" not in message


def test_a_period_is_kept_when_it_overlaps_the_days_named() -> None:
    since = parse_when("2024-10", UTC, now=NOW)
    until = parse_when("2025", UTC, now=NOW)
    kept = [p for p in ("FY2024", "FY2025", "2024-09", "2024-10-15", "2025-12", "2026-01")
            if within(p, since, until)]  # fmt: skip
    assert kept == ["FY2025", "2024-10-15", "2025-12"]


def invoke(sample: Sample, *args: str):
    return CliRunner().invoke(cli, ["--config", str(sample.config.path), *args])


@pytest.mark.parametrize(
    "args",
    [
        ["series", BACKLOG, "--since", "03/10/2025"],
        ["series", BACKLOG, "--until", "2025-13-01"],
        ["series", BACKLOG, "--as-of", "03/10/2025"],
        ["revisions", "--since", "03/10/2025"],
        ["news", "--since", "2025-13-01"],
        ["alerts", "events", "--since", "03/10/2025"],
        ["alerts", "backtest", "backlog_high", "--since", "2025-13"],
        ["alerts", "silence", "backlog_high", "--until", "03/10/2025"],
    ],
    ids=lambda args: " ".join(args[:1] + args[-2:]),
)
def test_every_date_option_refuses_a_bad_date_in_one_line(sample: Sample, args) -> None:
    result = invoke(sample, *args)
    assert result.exit_code == 2, result.output
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert args[-2] in line and "FY2025" in line and "7d" in line


@pytest.mark.parametrize(
    ("args", "periods"),
    [
        (["--since", "2025"], ["2025-02", "2025-05"]),
        (["--since", "FY2025", "--until", "2024-12-31"], ["2024-11", "2024-12"]),
        (["--until", "2017"], ["2017-09", "2017-11"]),
        (["--since", "2024-12-15", "--until", "2025-Q1"], ["2024-12", "2025-02"]),
    ],
)
def test_series_keeps_the_periods_overlapping_the_dates(sample: Sample, args, periods) -> None:
    result = invoke(sample, "series", BACKLOG, *args, "--csv")
    assert result.exit_code == 0, result.output
    assert [line.split(",")[0] for line in result.output.splitlines()[1:]] == periods


def test_series_since_yesterday_says_where_the_periods_run(sample: Sample) -> None:
    result = invoke(sample, "series", BACKLOG, "--since", "yesterday")
    assert result.exit_code == 1
    assert "its periods run from '2017-09' to '2025-05'" in result.output


def test_backtest_since_a_fiscal_year(sample: Sample) -> None:
    every = invoke(sample, "alerts", "backtest", "backlog_high", "--csv")
    recent = invoke(sample, "alerts", "backtest", "backlog_high", "--since", "FY2025", "--csv")
    assert every.exit_code == recent.exit_code == 0, every.output + recent.output
    assert "2024-11" in every.output and "2024-11" in recent.output
    assert all(line.split(",")[0] >= "2024-10" for line in recent.output.splitlines()[1:])
