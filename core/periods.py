"""Periods in one canonical text form, so that series from different sources line up
and sort as text: a day `2024-06-03`, a month `2024-06`, a calendar quarter `2011-Q3`,
a calendar year `2024`, a US federal fiscal year `FY2024` (1 Oct 2023 - 30 Sep 2024).

`Period` is the one home of what crossings knows about periods: `Period.parse` reads the
labels the sources print ("FY 2022*", "2025 (FYTD)", "Oct-24", "Sept-25", "June 2024",
"05/31/2025", "May 31, 2025", "(27 Jun 2025)") and raises `PeriodError` for one it cannot
read. A fiscal year printed part-way ("2025 (Third Quarter)", "FY 2025 Q3") is the fiscal
year flagged `partial`, with the quarter it runs through kept as a flag (`through:Q3`), so
that Q2 and Q3 figures of one year are told apart and `last_day` knows where they end.
`year_earlier` gives the period a year-on-year rule compares with; `grain` says whether
it is a day, a month, ...; `step` and `position` place it on a chart's time axis, and
`tick` labels it there. It lives in storage, the lowest layer, because storage
keys values by this text and scrapers (parsing), alerts (year on year) and jobs (charts)
all need it without knowing each other."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from core.errors import CrossingsError

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"([A-Za-z]{3,9})\.?"
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
             "4th": 4}  # fmt: skip
_ORDINAL = r"(First|Second|Third|Fourth|1st|2nd|3rd|4th)"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("fiscal", r"^FY\s*'?(\d{4}|\d{2})$"),
        ("fytd", r"^(\d{4})\s*\((?:FYTD|YTD)\)$"),
        ("fiscal_quarter_words", rf"^(?:FY\s*)?(\d{{4}})\s*\(?\s*{_ORDINAL}\s+Quarter\s*\)?$"),
        ("fiscal_quarter", r"^FY\s*'?(\d{4}|\d{2})\s*[-\s]\s*\(?Q([1-4])\)?$"),
        ("iso_day", r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
        ("iso_month", r"^(\d{4})-(\d{1,2})$"),
        ("us_day", r"^(\d{1,2})/(\d{1,2})/(\d{4})$"),
        ("month_day_year", rf"^{_MONTH}\s+(\d{{1,2}}),?\s+(\d{{4}})$"),
        ("day_month_year", rf"^(\d{{1,2}})\s+{_MONTH},?\s+(\d{{4}})$"),
        ("month_dash_yy", rf"^{_MONTH}[-\s]'?(\d{{2}})$"),
        ("month_year", rf"^{_MONTH},?\s+(\d{{4}})$"),
        ("quarter_months", rf"^{_MONTH}\s*[-\u2013]\s*{_MONTH}\s+(\d{{4}})$"),
        ("quarter", r"^Q([1-4])\s*(\d{4})$"),
        ("year", r"^(\d{4})$"),
    )
)
# Marks printed after a label: "FY 2022*" means a partial year, explained in a footnote.
_FOOTNOTE = re.compile(r"(\*+|†+|\[\w{1,3}\])$")


class PeriodError(CrossingsError, ValueError):
    """A label that should name a period but does not; the message quotes it."""


_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTH_TEXT = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")
_FISCAL = re.compile(r"FY ?(\d{4})")
_GRAINS = (
    ("day", _DAY), ("month", _MONTH_TEXT), ("quarter", _QUARTER), ("fiscal year", _FISCAL),
    ("year", re.compile(r"\d{4}")),
)  # fmt: skip
_SHORT_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                 "Dec")  # fmt: skip


@dataclass(frozen=True)
class Period:
    """A period as storage keeps it, with the flags its label carried (`partial`, ...)."""

    text: str
    flags: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: str) -> "Period":
        """The canonical period of a label, with flags (`partial`, `footnote:*`)."""
        return _parse(raw)

    def year_earlier(self) -> "Period | None":
        """'2024-06-03' -> '2023-06-03'; 'FY2024' -> 'FY2023'; '2024-Q2' -> '2023-Q2';
        None if there is no year to shift. 29 February has no year-earlier twin: None."""
        match = _YEAR.search(self.text)
        if match is None:
            return None
        shifted = f"{self.text[: match.start()]}{int(match[1]) - 1:04d}{self.text[match.end() :]}"
        return None if shifted.endswith("-02-29") else Period(shifted)

    @property
    def through_quarter(self) -> int | None:
        """The fiscal quarter a part-way fiscal year runs through ('2025 (Third Quarter)':
        3); None when the label did not say."""
        quarter = next((flag for flag in self.flags if flag.startswith("through:Q")), None)
        return int(quarter[-1]) if quarter else None

    @property
    def last_day(self) -> date | None:
        """The last day the figures cover: a day itself, the end of a month, quarter or
        year, and for a fiscal year read part-way the end of its last quarter (FY2025
        through Q3: 2025-06-30). A stock (cases pending) is as of that day."""
        days = self.days
        if days is None:
            return None
        end = days[1]
        if (quarter := self.through_quarter) is not None and self.grain == "fiscal year":
            end = _month_after(days[0].year, 9 + 3 * quarter)
        return date.fromordinal(end.toordinal() - 1)

    @property
    def is_day(self) -> bool:
        return _DAY.fullmatch(self.text) is not None

    @property
    def days(self) -> "tuple[date, date] | None":
        """The calendar days the period covers, as [first day, day after the last); None
        for a form that is not a day, month, quarter, fiscal year or calendar year."""
        text = self.text
        try:
            if match := _DAY.fullmatch(text):
                first = date(int(match[1]), int(match[2]), int(match[3]))
                return first, date.fromordinal(first.toordinal() + 1)
            if match := _MONTH_TEXT.fullmatch(text):
                year, month = int(match[1]), int(match[2])
                return date(year, month, 1), _month_after(year, month)
            if match := _QUARTER.fullmatch(text):
                year, quarter = int(match[1]), int(match[2])
                return date(year, 3 * quarter - 2, 1), _month_after(year, 3 * quarter)
            if match := _FISCAL.fullmatch(text):
                return date(int(match[1]) - 1, 10, 1), date(int(match[1]), 10, 1)
            if re.fullmatch(r"\d{4}", text):
                return date(int(text), 1, 1), date(int(text) + 1, 1, 1)
        except ValueError:  # 2024-13, 2023-02-30
            return None
        return None

    @property
    def grain(self) -> str:
        """'day', 'month', 'quarter', 'fiscal year', 'year', or 'period' for other forms."""
        return next((name for name, form in _GRAINS if form.fullmatch(self.text)), "period")

    @property
    def step(self) -> int | None:
        """The period's place in whole periods of its grain: days since 1970-01-01, months
        or quarters since year 0, or the year; so a chart's ticks fall on whole periods.
        None for other forms."""
        text, grain = self.text, self.grain
        if grain == "day":
            try:
                return (date.fromisoformat(text) - date(1970, 1, 1)).days
            except ValueError:
                return None
        if grain == "month":
            return int(text[:4]) * 12 + int(text[5:7]) - 1
        if grain == "quarter":
            return int(text[:4]) * 4 + int(text[-1]) - 1
        if grain in ("fiscal year", "year"):
            return int(text[-4:])
        return None

    def tick(self, *, with_year: bool) -> str:
        """A short label for a chart's axis: 'Jun 3' (or 'Jun 3, 2024'), 'Jun 2024',
        'FY2024'. Distinct periods of one grain give distinct labels."""
        if self.grain == "day" and (step := self.step) is not None:
            day = date(1970, 1, 1) + timedelta(days=step)
            short = f"{_SHORT_MONTHS[day.month - 1]} {day.day}"
            return f"{short}, {day.year}" if with_year else short
        if self.grain == "month":
            return f"{_SHORT_MONTHS[int(self.text[5:7]) - 1]} {self.text[:4]}"
        return self.text.replace("FY ", "FY")

    @property
    def position(self) -> float | None:
        """The period's middle as a decimal year, so a chart spaces periods by time (a gap
        of four years looks like one, quarters sit between months); None for a form that
        has no place in time."""
        text = self.text
        if match := _DAY.fullmatch(text):
            try:
                day = date(*map(int, match.groups()))
            except ValueError:
                return None
            length = (date(day.year + 1, 1, 1) - date(day.year, 1, 1)).days
            return day.year + (day.timetuple().tm_yday - 0.5) / length
        if match := _MONTH_TEXT.fullmatch(text):
            return int(match[1]) + (int(match[2]) - 0.5) / 12
        if match := _QUARTER.fullmatch(text):
            return int(match[1]) + (int(match[2]) - 0.5) / 4
        if match := _FISCAL.fullmatch(text):
            return int(match[1]) - 0.25 + 0.5  # 1 October of the year before, plus half a year
        if re.fullmatch(r"\d{4}", text):
            return int(text) + 0.5
        return None


def _month_after(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1)


def grain_of(periods: list[str]) -> str:
    """The grain shared by every period of a series ('period' when they are mixed)."""
    grains = {Period(period).grain for period in periods}
    return grains.pop() if len(grains) == 1 else "period"


def _parse(raw: str) -> Period:
    text = " ".join(str(raw).split())
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    flags: list[str] = []
    while (mark := _FOOTNOTE.search(text)) and mark.start() > 0:
        flags.insert(0, f"footnote:{mark.group(1)}")
        text = text[: mark.start()].rstrip()
    if flags:
        flags.insert(0, "partial")
    for name, pattern in _PATTERNS:
        if match := pattern.match(text):
            canonical, extra = _canonical(name, match.groups(), raw)
            return Period(canonical, tuple(dict.fromkeys([*extra, *flags])))
    raise PeriodError(f"{raw!r} is not a period (day, month, quarter, year or fiscal year)")


def _canonical(name: str, groups: tuple[str, ...], raw: str) -> tuple[str, list[str]]:
    if name == "fiscal":
        year = int(groups[0])
        return f"FY{year + 2000 if year < 100 else year}", []
    if name == "fytd":
        return f"FY{groups[0]}", ["partial"]
    if name in ("fiscal_quarter_words", "fiscal_quarter"):
        year = int(groups[0])
        quarter = _ORDINALS[groups[1].lower()] if name == "fiscal_quarter_words" else int(groups[1])
        partial = ["partial"] if quarter < 4 else []
        return f"FY{year + 2000 if year < 100 else year}", [*partial, f"through:Q{quarter}"]
    if name == "iso_day":
        return _day(int(groups[0]), int(groups[1]), int(groups[2]), raw), []
    if name == "iso_month":
        return _month(int(groups[0]), int(groups[1]), raw), []
    if name == "us_day":
        return _day(int(groups[2]), int(groups[0]), int(groups[1]), raw), []
    if name == "month_day_year":
        return _day(int(groups[2]), month_number(groups[0], raw), int(groups[1]), raw), []
    if name == "day_month_year":
        return _day(int(groups[2]), month_number(groups[1], raw), int(groups[0]), raw), []
    if name == "month_dash_yy":
        return _month(2000 + int(groups[1]), month_number(groups[0], raw), raw), []
    if name == "month_year":
        return _month(int(groups[1]), month_number(groups[0], raw), raw), []
    if name == "quarter_months":
        first, last = month_number(groups[0], raw), month_number(groups[1], raw)
        if last - first != 2 or first % 3 != 1:
            raise PeriodError(f"{raw!r} is not a calendar quarter")
        return f"{groups[2]}-Q{(first + 2) // 3}", []
    if name == "quarter":
        return f"{groups[1]}-Q{groups[0]}", []
    return groups[0], []  # year


def month_number(name: str, raw: object = None) -> int:
    """'Jun', 'June', 'SEPT', 'sep.' -> 6, 6, 9, 9."""
    number = MONTHS.get(name.lower().rstrip("."))
    if number is None:
        raise PeriodError(f"{raw if raw is not None else name!r}: {name!r} is not a month name")
    return number


def fiscal_month(fiscal_year: int, month: str | int) -> str:
    """The calendar month of a fiscal-year month: FY2024 + 'OCT' -> '2023-10'."""
    number = month if isinstance(month, int) else month_number(month)
    year = fiscal_year - 1 if number >= 10 else fiscal_year
    return f"{year}-{number:02d}"


def fiscal_year_of(period: str) -> str:
    """The fiscal year a day or month falls in: '2023-10' -> 'FY2024'."""
    year, month = int(period[:4]), int(period[5:7])
    return f"FY{year + 1 if month >= 10 else year}"


def _day(year: int, month: int, day: int, raw: object) -> str:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise PeriodError(f"{raw!r} is not a real date") from None


def _month(year: int, month: int, raw: object) -> str:
    if not 1 <= month <= 12:
        raise PeriodError(f"{raw!r} has no month {month}")
    return f"{year:04d}-{month:02d}"


def parse_timestamp(raw: str) -> datetime:
    """A day label as a UTC midnight (for news dates printed without a time)."""
    period = Period.parse(raw).text
    if len(period) != 10:
        raise PeriodError(f"{raw!r} is not a day")
    return datetime.fromisoformat(period).replace(tzinfo=UTC)
