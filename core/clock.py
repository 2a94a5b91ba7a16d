"""Timestamps as stored: ISO 8601 in UTC with a trailing Z, so text order is time order."""

from datetime import UTC, datetime


def to_text(moment: datetime) -> str:
    """Render an aware datetime the way every table stores time."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware datetime (UTC or a zone)")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now() -> str:
    """The current moment as stored text."""
    return to_text(datetime.now(UTC))


def parse(text: str) -> datetime:
    """Read a stored timestamp back (also accepts dates and offsets, assumed UTC if naive)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
