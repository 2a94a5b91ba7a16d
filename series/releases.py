"""When a source publishes: its release rhythm, learned from when each new period first
appeared (or taken from a hint such as "monthly, days 10-20, hours 9-17" for a source with
too little history), and the window in which its next release is due.

Pure functions of (history, hint, zone, now), so that a year of releases replays in a
test without sleeping. Used by the late-release rule (is the release overdue?) and by the
daemon's release-aware polling (when to poll densely)."""

import itertools
import re
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from core import clock
from core.formatting import duration
from storage import Store

MIN_RELEASES = 4  # fewer releases than this: too little history to learn from
SURE = 6  # on-time releases before learned days replace the hint's (or a wider guess)
KEEP = 13  # learn from the newest releases only (a year of a monthly source)
SAME_RELEASE = timedelta(hours=6)  # periods appearing this close together: one release
BOUND_AT_MOST = timedelta(days=3)  # an earlier bound further back than this says nothing
PRECISE = timedelta(hours=4, minutes=30)  # seen this soon after the run before: timed
SKIPPED = 1.6  # a gap this many times the usual one is a skipped release, not rhythm
MONTH = timedelta(days=30)
HINT_FORMS = (
    "write e.g. 'monthly', 'monthly, days 10-20', 'monthly, days 10-20, hours 9-17', "
    "'weekly', 'every 14 days' or 'every 2 weeks, hours 8-12'"
)


@dataclass(frozen=True)
class Release:
    """A new period first seen at `seen_at`; the run before it (`not_before`) had not
    seen it, so it was published in between."""

    seen_at: datetime
    period: str
    not_before: datetime | None = None

    @property
    def earliest(self) -> datetime:
        if self.not_before is None:
            return self.seen_at
        return max(self.not_before, self.seen_at - BOUND_AT_MOST)


@dataclass(frozen=True)
class Hint:
    """What the config says about a source's rhythm before history can."""

    monthly: bool
    cycle: timedelta
    days: tuple[int, int] | None = None
    hours: tuple[int, int] | None = None


@dataclass(frozen=True)
class Cadence:
    """A source's rhythm. `basis` is 'learned', 'hint' or 'unknown' (too little history
    and no hint). Monthly sources publish on days `days` of each month; others every
    `cycle`, between `early` and `late` after the release before. `hours` are the local
    publishing hours [from, to), None when not known (then any hour is likely)."""

    basis: str
    monthly: bool = False
    cycle: timedelta = MONTH
    early: timedelta = timedelta(0)
    late: timedelta = timedelta(0)
    days: tuple[int, int] | None = None
    hours: tuple[int, int] | None = None
    releases: int = 0
    irregular: bool = False

    @property
    def known(self) -> bool:
        return self.basis != "unknown"

    def words(self) -> str:
        """E.g. 'monthly, days 12-19, 09:00-17:00 (learned from 11 releases)'."""
        if not self.known:
            return (
                f"not known yet: {self.releases} release(s) seen, {MIN_RELEASES} needed "
                "to learn, and no `releases` hint"
            )
        if self.monthly:
            rhythm = "monthly" + (f", days {self.days[0]}-{self.days[1]}" if self.days else "")
        else:
            rhythm = f"every {_days(self.cycle)}"
            if self.late > self.early:
                rhythm += f" ({_days(self.early)} to {_days(self.late)})"
        if self.hours:
            rhythm += f", {self.hours[0]:02d}:00-{self.hours[1] % 24:02d}:00"
        if self.irregular:
            rhythm += ", irregular"
        if self.basis == "hint":
            return f"{rhythm} (from the hint; {self.releases} release(s) seen so far)"
        return f"{rhythm} (learned from {self.releases} releases)"


@dataclass(frozen=True)
class Window:
    """Where the next release is expected: from `start` to `end`."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def words(self, zone: tzinfo) -> str:
        """E.g. '12-19 Aug 2026 09:00-17:00' or '3 Aug 2026 08:00 - 5 Aug 2026 17:00'."""
        start, end = self.start.astimezone(zone), self.end.astimezone(zone)
        last = end - timedelta(microseconds=1)
        if start.time() == time(0) and end.time() == time(0):
            if start.date() == last.date():
                return f"{start:%-d %b %Y}"
            return f"{start:%-d %b} - {last:%-d %b %Y}"
        return f"{start:%-d %b %Y %H:%M} - {end:%-d %b %Y %H:%M}"


def parse_hint(text: str) -> Hint:
    """'monthly, days 10-20, hours 9-17' -> Hint; ValueError naming the accepted forms."""
    parts = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not parts:
        raise ValueError(f"releases {text!r} is empty: {HINT_FORMS}")
    rhythm, *details = parts
    every = re.fullmatch(r"every (\d+) (day|week)s?", rhythm)
    if rhythm == "monthly":
        monthly, cycle = True, MONTH
    elif rhythm == "weekly":
        monthly, cycle = False, timedelta(weeks=1)
    elif every and int(every[1]) > 0:
        monthly = False
        cycle = timedelta(days=int(every[1]) * (7 if every[2] == "week" else 1))
    else:
        raise ValueError(f"releases {text!r}: {rhythm!r} is not a rhythm; {HINT_FORMS}")
    days = hours = None
    for detail in details:
        found = re.fullmatch(r"(days|hours) (\d+)\s*-\s*(\d+)", detail)
        if found is None:
            raise ValueError(f"releases {text!r}: cannot read {detail!r}; {HINT_FORMS}")
        low, high = int(found[2]), int(found[3])
        if found[1] == "days":
            if not monthly or not 1 <= low <= high <= 31:
                raise ValueError(
                    f"releases {text!r}: 'days A-B' are days of the month (1-31, A <= B), "
                    "for a monthly source"
                )
            days = (low, high)
        else:
            if not 0 <= low < high <= 24:
                raise ValueError(f"releases {text!r}: 'hours A-B' need 0 <= A < B <= 24")
            hours = (low, high)
    return Hint(monthly=monthly, cycle=cycle, days=days, hours=hours)


def merged(releases: Sequence[Release]) -> list[Release]:
    """Oldest first, with periods that appeared together (several metrics, one file)
    counted as one release."""
    kept: list[Release] = []
    for release in sorted(releases, key=lambda r: r.seen_at):
        if kept and release.seen_at - kept[-1].seen_at < SAME_RELEASE:
            newest = max(kept[-1].period, release.period)
            kept[-1] = Release(kept[-1].seen_at, newest, kept[-1].not_before)
            continue
        kept.append(release)
    return kept


def learn(releases: Sequence[Release], hint: Hint | None, zone: tzinfo) -> Cadence:
    """The rhythm that history shows; the hint while history is too short. Publishing
    hours cover both the hint's and those of releases that history timed to the hour."""
    history = merged(releases)[-KEEP:]
    count = len(history)
    if count < MIN_RELEASES:
        if hint is None:
            return Cadence("unknown", releases=count)
        spread = timedelta(days=1) if hint.monthly else max(timedelta(days=1), hint.cycle / 7)
        return Cadence(
            "hint", monthly=hint.monthly, cycle=hint.cycle, early=hint.cycle - spread,
            late=hint.cycle + spread, days=hint.days or ((1, 31) if hint.monthly else None),
            hours=hint.hours, releases=count,
        )  # fmt: skip
    gaps = [b.seen_at - a.seen_at for a, b in itertools.pairwise(history)]
    usual = timedelta(seconds=statistics.median(gap.total_seconds() for gap in gaps))
    hours = _union(_hours(history, zone), hint.hours if hint else None)
    if timedelta(days=25) <= usual <= timedelta(days=35):
        # a release far from the usual day (a late one) is not the rhythm: leave it out
        middle = statistics.median(r.seen_at.astimezone(zone).day for r in history)
        on_time = [r for r in history if abs(r.seen_at.astimezone(zone).day - middle) <= 7]
        low = min(r.earliest.astimezone(zone).day for r in on_time)
        high = max(r.seen_at.astimezone(zone).day for r in on_time)
        if len(on_time) < SURE:  # a few releases do not show the whole range yet
            low, high = (low - 2, high + 2) if hint is None or hint.days is None else (
                min(low, hint.days[0]), max(high, hint.days[1]))  # fmt: skip
            low, high = max(1, low), min(31, high)
        if high - low <= 15:
            irregular = high - low > 10
            if irregular:  # an irregular source gets a wider window, not a denser one
                low, high = max(1, low - 2), min(31, high + 2)
            return Cadence(
                "learned", monthly=True, cycle=MONTH, days=(low, high), hours=hours,
                releases=count, irregular=irregular,
            )  # fmt: skip
    pairs = [
        (a, b) for a, b in itertools.pairwise(history) if b.seen_at - a.seen_at <= usual * SKIPPED
    ]
    early = min(b.earliest - a.seen_at for a, b in pairs)
    late = max(b.seen_at - a.seen_at for a, b in pairs)
    irregular = late - early > usual / 2
    margin = max(timedelta(hours=12), usual / 14) * (2 if irregular else 1)
    return Cadence(
        "learned", cycle=usual, early=max(timedelta(hours=1), early - margin), late=late + margin,
        hours=hours, releases=count, irregular=irregular,
    )  # fmt: skip


def windows(
    cadence: Cadence, last: datetime | None, zone: tzinfo, *, watching_since: datetime | None
) -> Iterator[Window]:
    """The windows in which the next releases are due, in order: the first is where the
    release after `last` is expected. Without a release seen yet, windows start after
    `watching_since` (the first crawl: what came before it is not a release we saw)."""
    if not cadence.known:
        return
    if cadence.monthly:
        assert cadence.days is not None
        anchor = last or watching_since
        if anchor is None:
            return
        local = anchor.astimezone(zone)
        year, month = local.year, local.month
        for _ in range(400):
            window = _monthly(cadence, year, month, zone)
            middle = window.start + (window.end - window.start) / 2
            if (last is not None and middle > last + MONTH / 2) or (
                last is None and window.end > anchor
            ):
                yield window
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return
    if last is None:
        return
    for k in range(400):
        start = _day_start(last + cadence.early + cadence.cycle * k, zone)
        end = _day_start(last + cadence.late + cadence.cycle * k, zone) + timedelta(days=1)
        yield Window(start, end)


def due(
    cadence: Cadence, last: datetime | None, zone: tzinfo, *, watching_since: datetime | None
) -> Window | None:
    """The window of the release expected after `last`; None if nothing can be said."""
    return next(windows(cadence, last, zone, watching_since=watching_since), None)


def _monthly(cadence: Cadence, year: int, month: int, zone: tzinfo) -> Window:
    assert cadence.days is not None
    length = ((date(year + month // 12, month % 12 + 1, 1)) - date(year, month, 1)).days
    first, last = min(cadence.days[0], length), min(cadence.days[1], length)
    opens, closes = cadence.hours or (0, 24)
    start = datetime.combine(date(year, month, first), time(0), zone) + timedelta(hours=opens)
    end = datetime.combine(date(year, month, last), time(0), zone) + timedelta(hours=closes)
    return Window(start, end)


def _hours(history: Sequence[Release], zone: tzinfo) -> tuple[int, int] | None:
    """Local publishing hours, from releases timed to within a few hours; None if too
    few were (a daily crawl cannot tell the hour)."""
    timed = [r for r in history if r.not_before is not None and r.seen_at - r.not_before <= PRECISE]
    if len(timed) < 3:
        return None
    # an hour's margin each side: a few releases do not show the whole working day
    opens = max(0, min(r.earliest.astimezone(zone).hour for r in timed) - 1)
    closes = min(24, max(r.seen_at.astimezone(zone).hour for r in timed) + 2)
    if any(r.earliest.astimezone(zone).date() != r.seen_at.astimezone(zone).date() for r in timed):
        return None  # published around midnight: no daytime hours to speak of
    return (opens, closes) if closes - opens < 20 else None


def _union(
    learned: tuple[int, int] | None, hinted: tuple[int, int] | None
) -> tuple[int, int] | None:
    """Hours that cover both what history showed and what the hint says."""
    if learned is None or hinted is None:
        return learned or hinted
    return (min(learned[0], hinted[0]), max(learned[1], hinted[1]))


def _day_start(moment: datetime, zone: tzinfo) -> datetime:
    local = moment.astimezone(zone)
    return datetime.combine(local.date(), time(0), zone)


def _days(span: timedelta) -> str:
    """A rhythm's span in whole days (or hours, below two days)."""
    unit = timedelta(days=1) if span >= timedelta(days=2) else timedelta(hours=1)
    return duration(unit * round(span / unit))


@dataclass(frozen=True)
class History:
    """What storage knows of a source's releases."""

    releases: list[Release]
    watching_since: datetime | None

    @property
    def last(self) -> datetime | None:
        return self.releases[-1].seen_at if self.releases else None


def history(store: Store, source: str) -> History:
    """A source's releases as storage keeps them (several metrics' new periods seen
    together count as one release)."""
    releases = [
        Release(
            seen_at=clock.parse(arrival.seen_at),
            period=arrival.period,
            not_before=clock.parse(arrival.not_before) if arrival.not_before else None,
        )
        for arrival in store.releases.arrivals(source)
    ]
    since = store.releases.watching_since(source)
    return History(merged(releases), clock.parse(since) if since else None)
