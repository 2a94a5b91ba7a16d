"""Dates and times as users write them, for every option and form that takes one
(`--since`, `--until`, `--as-of`, the web pages' fields): one parser, one list of the
accepted forms, one error. Showing stored times is `core.formatting.moment`.

A user's text names a stretch of time (`When`): a day (2025-03-01, today, yesterday), a
month (2025-03), a quarter (2025-Q1), a year (2025), a fiscal year (FY2025: 1 October
2024 to 30 September 2025), or an instant (2025-03-01T12:00, or an age such as 7d: that
long ago). A "since" takes its start, an "as of" or "until" its end. Slashed dates are
refused: 03/10/2025 is 10 March to some readers and 3 October to others."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from core import clock
from core.periods import Period
from jobs.typed import DURATION, parse_duration

FORMS = (
    "a date (2025-03-01), a month (2025-03), a quarter (2025-Q1), a year (2025), a fiscal "
    "year (FY2025), a date and time (2025-03-01T12:00), an age (7d, 12h), today or yesterday"
)
_SLASHED = re.compile(r"\d{1,4}/\d{1,2}/\d{1,4}")
_DAY_LIKE = re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?")
_PERIOD_LIKE = re.compile(r"\d{4}(-\d{2}(-\d{2})?|-Q[1-4])?|FY ?\d{4}", re.IGNORECASE)


@dataclass(frozen=True)
class When:
    """A stretch of time a user named: [start, end), both aware; an instant has
    start == end. `text` is what the user wrote, for messages."""

    text: str
    start: datetime
    end: datetime

    def first_day(self) -> date:
        return self.start.date()

    def last_day(self) -> date:
        """The last calendar day the stretch touches (an instant: its own day)."""
        if self.end > self.start:
            return (self.end - timedelta(microseconds=1)).date()
        return self.start.date()


def parse_when(text: str, zone: tzinfo, *, now: datetime) -> When:
    """The stretch of time `text` names, in `zone` unless it carries an offset or Z;
    ValueError in one line, listing the accepted forms."""
    shown = text.strip()
    word = shown.lower()
    today = now.astimezone(zone).date()
    if word in ("today", "yesterday"):
        day = today if word == "today" else today - timedelta(days=1)
        return _days(shown, day, day + timedelta(days=1), zone)
    if DURATION.match(word):
        at = (now - parse_duration(word)).astimezone(zone)  # its day is the user's day
        return When(shown, at, at)
    if _SLASHED.fullmatch(shown):
        raise ValueError(
            f"{shown!r} is ambiguous (day/month or month/day?): write it as 2025-03-10; "
            f"accepted: {FORMS}"
        )
    if _PERIOD_LIKE.fullmatch(shown):
        days = Period(shown.upper().replace("FY ", "FY")).days
        if days is None:
            raise ValueError(f"{shown!r} is not a calendar date; accepted: {FORMS}")
        return _days(shown, *days, zone)
    if (match := _DAY_LIKE.match(shown)) and not _valid_day(match):
        raise ValueError(f"{shown!r} is not a calendar date; accepted: {FORMS}")
    try:
        at = datetime.fromisoformat(shown.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{shown!r} is not a date or time; accepted: {FORMS}") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone)
    return When(shown, at, at)


def parse_moment(text: str, zone: tzinfo, *, now: datetime, whole_day: bool = False) -> str:
    """Stored-form text for a user's moment: the start of what `text` names, or with
    `whole_day` its end ("as known on 2025-06-01" includes what was fetched that
    afternoon). ValueError naming the accepted forms."""
    when = parse_when(text, zone, now=now)
    if whole_day and when.end > when.start:
        return clock.to_text(when.end - timedelta(microseconds=1))
    return clock.to_text(when.start)


def within(period: str, since: When | None, until: When | None) -> bool:
    """Whether a stored period overlaps [since, until]: `--since 2024-10` keeps FY2025 and
    2024-10-15; `--until 2025` keeps 2025-12. A period of a form with no calendar days
    is compared by its text."""
    days = Period(period).days
    if days is None:
        return (since is None or period >= since.text) and (
            until is None or period <= until.text + "~"
        )
    first, after = days
    return (since is None or after > since.first_day()) and (
        until is None or first <= until.last_day()
    )


def _days(text: str, first: date, after: date, zone: tzinfo) -> When:
    return When(text, datetime.combine(first, time(), zone), datetime.combine(after, time(), zone))


def _valid_day(match: re.Match) -> bool:
    year, month, day = int(match[1]), int(match[2]), int(match[3] or 1)
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True
