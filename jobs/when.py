"""Moments as users write them: "2025-03-01", "2025-03-01T12:00" (in the configured
timezone unless it carries an offset or Z) or "7d" (that long ago). Showing stored times
is `core.formatting.moment`, shared with alerts."""

from datetime import datetime, time, tzinfo

from core import clock
from jobs.typed import DURATION, parse_duration


def parse_moment(text: str, zone: tzinfo, *, now: datetime, whole_day: bool = False) -> str:
    """Stored-form text for a user's moment; ValueError naming the accepted forms.
    With `whole_day`, a bare date means its end ("as known on 2025-06-01" includes what
    was fetched that afternoon); otherwise its start."""
    text = text.strip()
    if DURATION.match(text):
        return clock.to_text(now - parse_duration(text))
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use a date (2025-03-01), a date and time "
            "(2025-03-01T12:00) or an age such as 7d or 12h"
        ) from None
    if whole_day and len(text) == len("2025-03-01"):
        moment = datetime.combine(moment.date(), time.max)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return clock.to_text(moment)
