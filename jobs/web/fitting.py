"""Text that fits a phone's narrow table cells: long names break only between their
parts, times only between the date and the clock. Both return escaped markup (the
pages stay autoescaped: only the break hints are markup)."""

import re
from datetime import tzinfo

from markupsafe import Markup, escape

from core.formatting import moment

# After these a long name (trac.court.backlog, a URL, snake_case) may start a new line;
# a hyphen is a break point for the browser already.
PARTS = re.compile(r"(?<=[./_?&=])(?=.)")


def breakable(text: object) -> Markup:
    """'trac.court.backlog' as 'trac.<wbr>court.<wbr>backlog'."""
    if text is None:
        return Markup("")
    return Markup("<wbr>").join(escape(part) for part in PARTS.split(str(text)))


def time_of_day(stored: str | None, zone: tzinfo) -> Markup:
    """A stored time in the reader's zone ('2026-12-06 22:30 UTC') that wraps, if it must,
    before the clock, never inside the date; '' for none."""
    shown = moment(stored, zone)
    day, _, clock = shown.partition(" ")
    if not clock:
        return escape(shown)
    return Markup('<span class="nowrap">{}</span> <span class="nowrap">{}</span>').format(
        day, clock
    )
