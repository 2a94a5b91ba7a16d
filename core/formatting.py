"""Numbers and times as people read them: the one formatter behind the CLI's tables, the
web page, alert and digest emails and webhook texts, so a figure reads the same wherever
it is shown (2612.43 is "2,612.43" in an alert and on the page). It lives in storage, the
lowest layer, because alerts and jobs both show stored values and may not know each other.
Machine outputs (CSV, JSON, webhook payload fields) keep the raw values."""

from datetime import UTC, timedelta, tzinfo

from core import clock


def number(value: float | None) -> str:
    """3596229.0 -> '3,596,229'; 2612.43 -> '2,612.43'; 56.10 -> '56.1'; 0.0042 -> '0.0042';
    None -> 'n/a'. Two decimals at most (float noise never shows), except below 0.01,
    where two significant digits keep a small rate from reading as 0."""
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) < 0.01:
        return f"{value:.2g}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def moment(stored: str | None, zone: tzinfo = UTC) -> str:
    """A stored timestamp as '2025-06-01 08:17 UTC' in `zone`; '' for none. Text that is
    not a timestamp (a period, say) is shown as it is."""
    if not stored:
        return ""
    try:
        return clock.parse(stored).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    except ValueError:
        return stored


def duration(span: timedelta) -> str:
    """A span in its two largest units: '40 minutes', '2 hours 24 minutes', '3 days 4
    hours', '1 day', '0 minutes' (rounded to the minute; a negative span reads as zero)."""
    minutes = max(0, round(span / timedelta(minutes=1)))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    units = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    first = next((i for i, (count, _) in enumerate(units) if count), len(units) - 1)
    shown = [unit for unit in units[first : first + 2] if unit[0] or unit is units[first]]
    return " ".join(f"{count} {unit}{'s' * (count != 1)}" for count, unit in shown)
