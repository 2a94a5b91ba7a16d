"""Late release: a source's next release has not appeared although its usual window
(learned from history, or the source's `releases` hint) closed more than `grace` ago.
Resolves when the release arrives, saying how late it was. Says nothing while the rhythm
is not known (too little history and no hint)."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from alerts.rule import StatefulRule, StateOf, Step
from alerts.view import View
from core import clock
from core.checked import SourceName
from core.formatting import duration
from series.releases import History, Window, due, history, learn, parse_hint
from storage import Cursor


@dataclass(frozen=True, kw_only=True)
class LateRelease(StatefulRule, kind="late_release"):
    """A source's release is later than its usual window by more than `grace`."""

    source: SourceName = field(metadata={"help": "The source whose releases are watched."})
    grace: timedelta = field(
        default=timedelta(days=1),
        metadata={"help": "How long after the usual window closes before alerting, e.g. '1d'."},
    )
    # Filled from the config, not written in the rule: the source's hint and the zone.
    releases: str = field(default="", metadata={"toml": False})
    timezone: str = field(default="UTC", metadata={"toml": False})

    def problems(self) -> list[str]:
        found = super().problems()
        if self.source == "*":
            found.append("source must name one source: each has its own rhythm")
        return found

    def observe(self, view: View, cursor: Cursor, state_of: StateOf) -> Iterator[Step]:
        zone = ZoneInfo(self.timezone)
        hint = parse_hint(self.releases) if self.releases not in ("", "auto") else None
        known = history(view.store, self.source)
        state = state_of(self.source)
        if state.state == "firing" and known.last and known.last > clock.parse(state.since):
            before = History(known.releases[:-1], known.watching_since)
            window = due(learn(before.releases, hint, zone), before.last, zone,
                         watching_since=before.watching_since)  # fmt: skip
            if window is not None:
                yield self._arrived(known, window, zone)
                return
        window = due(learn(known.releases, hint, zone), known.last, zone,
                     watching_since=known.watching_since)  # fmt: skip
        if window is None:
            return
        late = view.now - window.end
        fire = late > self.grace
        expected = f"expected by {_day(window.end, zone)} (usual window {window.words(zone)})"
        says = f"{expected}, not published yet: {duration(late)} late" if fire else expected
        if known.releases:
            newest = known.releases[-1]
            says += f"; latest period {newest.period}, first seen {_day(newest.seen_at, zone)}"
        yield Step.either(
            series=self.source,
            period=_day(window.end, zone, iso=True),
            fire=fire,
            value=max(late, timedelta(0)) / timedelta(hours=1),
            says=says,
            facts={"expected_by": clock.to_text(window.end), "window": window.words(zone),
                   "late_hours": max(late, timedelta(0)) / timedelta(hours=1)},
        )  # fmt: skip

    def _arrived(self, known: History, window: Window, zone: tzinfo) -> Step:
        newest = known.releases[-1]
        late = newest.seen_at - window.end
        when = f"{_day(newest.seen_at, zone)} {newest.seen_at.astimezone(zone):%H:%M}"
        return Step.either(
            series=self.source,
            period=_day(window.end, zone, iso=True),
            fire=False,
            value=late / timedelta(hours=1),
            says=(
                f"published: period {newest.period} first seen {when}, {duration(late)} after "
                f"the usual window ({window.words(zone)}) closed"
            ),
            facts={"expected_by": clock.to_text(window.end), "window": window.words(zone),
                   "late_hours": late / timedelta(hours=1), "period_seen": newest.period},
        )  # fmt: skip


def _day(moment: datetime, zone: tzinfo, *, iso: bool = False) -> str:
    """The local day a moment falls in; a window ending at midnight ends the day before."""
    local = (moment - timedelta(microseconds=1)).astimezone(zone)
    return local.date().isoformat() if iso else f"{local:%-d %B %Y}"
