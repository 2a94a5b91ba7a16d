"""How counts of alert activity read, in the same words on every screen that shows them
(the demo's summary, `crossings alerts`, the digest): each count says what it counts.
An event is one thing a rule recorded (an alert fired or resolved, a notice, a
reminder); a message is one delivery to one channel (an event may send several, a
digest is one too)."""

from collections import Counter
from collections.abc import Iterable, Mapping

from core.formatting import number

# event kind -> (one, many): "1 fired", "5 notices"
EVENT_WORDS = {
    "firing": ("fired", "fired"),
    "resolved": ("resolved", "resolved"),
    "notice": ("notice", "notices"),
    "reminder": ("reminder", "reminders"),
    "nodata": ("without data", "without data"),
}


def events_counted(kinds: Mapping[str, int] | Iterable[str]) -> str:
    """'8 events (2 fired, 1 resolved, 5 notices)', from counts per kind or the kinds
    of the events one by one; 'no events'."""
    counts = Counter(kinds)
    total = sum(counts.values())
    if not total:
        return "no events"
    order = [*EVENT_WORDS, *sorted(set(counts) - set(EVENT_WORDS))]
    parts = [
        f"{number(counts[kind])} {EVENT_WORDS.get(kind, (kind, kind))[counts[kind] != 1]}"
        for kind in order
        if counts[kind]
    ]
    return f"{counted(total, 'event')} ({', '.join(parts)})"


def messages_counted(by_channel: Mapping[str, int]) -> str:
    """'7 messages sent (4 to mail, 3 to hook)'; 'no messages sent'."""
    total = sum(by_channel.values())
    if not total:
        return "no messages sent"
    parts = [f"{number(n)} to {channel}" for channel, n in sorted(by_channel.items()) if n]
    return f"{counted(total, 'message')} sent ({', '.join(parts)})"


def counted(count: int, noun: str) -> str:
    """'1 email', '4 emails'."""
    return f"{number(count)} {noun}{'' if count == 1 else 's'}"
