"""Numbers as sources print them, turned into values: the ONE place that knows about
thousands separators, percents, signs, footnote marks and the many ways of writing
"not published". A missing value is `None`, never zero; a text that is neither a number
nor a known "missing" mark raises `NumberError` (layout drift must be loud)."""

import re
from typing import NamedTuple

from core.errors import CrossingsError

MISSING = frozenset(
    {"", "-", "\u2013", "\u2014", "n/a", "na", "n.a.", "--", "...", "\u2026", "(x)", "null"}
)  # hyphen, en dash, em dash, ellipsis
# Footnote marks after a number: *, **, †, [1], (1) - kept as flags.
FOOTNOTE = re.compile(r"(\*+|†+|‡+|\[\w{1,3}\]|\(\d{1,2}\))$")
PLAIN = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")  # most cells: the fast path
NUMBER = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)?(\.\d+)?$")
SPACES = re.compile(r"[\s\u00a0\u2009\u202f]+")
# A count with its share in parentheses, as CBP prints it: "42 (4.66%)", "47(5.21%)".
WITH_SHARE = re.compile(r"^(.*?\d)\s*\(\s*([+-]?\d+(?:\.\d+)?)\s*%\s*\)$")


class NumberError(CrossingsError, ValueError):
    """A text that should hold a number but does not; the message quotes it."""


class Number(NamedTuple):
    value: float | None
    unit: str = ""
    flags: tuple[str, ...] = ()
    share: float | None = None  # the percent printed beside a count: "42 (4.66%)" -> 4.66


def parse_number(raw: object) -> Number:
    """'3,546,863' -> 3546863; '56.1%' -> 56.1 (unit percent); '-36%', '+5', '\u22122' (minus sign);
    '1,234*' -> 1234 flagged footnote:*; '42 (4.66%)' -> 42 with share 4.66;
    '-', '—', 'n/a', '' -> missing."""
    if type(raw) is str and PLAIN.fullmatch(raw):
        return Number(float(raw.replace(",", "")))
    if isinstance(raw, bool):
        raise NumberError(f"{raw!r} is a yes/no value, not a number")
    if isinstance(raw, int | float):
        return Number(float(raw))
    if raw is None:
        return Number(None)
    if not isinstance(raw, str):
        raise NumberError(f"{raw!r} is not a number")
    text = SPACES.sub(" ", raw).strip()
    if text.lower() in MISSING:
        return Number(None)
    if (pair := WITH_SHARE.match(text)) and "%" not in pair.group(1):
        count = parse_number(pair.group(1))
        return count._replace(share=float(pair.group(2)))
    flags: list[str] = []
    while (mark := FOOTNOTE.search(text)) and mark.start() > 0:
        flags.insert(0, f"footnote:{mark.group(1)}")
        text = text[: mark.start()].rstrip()
    unit = ""
    if text.endswith("%"):
        unit, text = "percent", text[:-1].rstrip()
    text = text.replace("\u2212", "-").replace(" ", "")
    match = NUMBER.match(text)
    if not match or not (match.group(2) or match.group(3)):
        raise NumberError(f"{raw!r} is not a number")
    sign, whole, fraction = match.group(1), match.group(2) or "0", match.group(3) or ""
    value = float(whole.replace(",", "") + fraction)
    return Number(-value if sign == "-" else value, unit, tuple(flags))
