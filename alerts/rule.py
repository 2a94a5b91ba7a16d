"""The base of every rule kind: the keys all rules share (labels, channels, repeats).
A kind subclasses it with `kind="..."`, declares its own keys as fields, and implements
`observe`, which reads what changed (through a `View`) and says, per series, what it saw:

- a `Step` for stateful kinds (threshold, change, stale, source health): whether the
  condition to fire and the condition to resolve hold at one period; the engine counts
  consecutive periods and moves the state machine (inactive -> firing -> resolved);
  kinds that replay a series judge many periods at once (`Judged`);
- a `Notice` for one-off kinds (revision, news): something happened; it is announced once.
"""

import dataclasses
import fnmatch
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from core.checked import ChannelName
from core.registry import Registered
from series.drawing import Drawing
from series.windows import Span
from storage import AlertState, Cursor

if TYPE_CHECKING:
    from alerts.view import View


@dataclass(slots=True)
class Step:
    """One period of one series, as a stateful rule judged it. `says` puts the condition
    in words ("7-day mean 2,612 is at or above 2,500"); `facts` go to templates. Either
    may be a function giving them, called only if the step is told (a replay of twenty
    years judges thousands of periods and tells a few)."""

    series: str
    period: str
    fire: bool
    clear: bool
    value: float | None
    says: str | Callable[[], str]
    facts: dict | Callable[[], dict] = field(default_factory=dict)
    snapshot_id: int | None = None
    remember: dict = field(default_factory=dict)  # kept in the state for the next step
    missing: bool = False  # no data to judge (a window with missing days): see `no_data`

    @classmethod
    def either(
        cls,
        series: str,
        period: str,
        fire: bool,
        value: float | None,
        says: str | Callable[[], str],
        facts: dict | Callable[[], dict],
        **more: Any,
    ) -> "Step":
        """A step whose condition either holds (it fires) or does not (it clears): every
        rule without a band between the two builds its steps so."""
        return cls(series, period, fire, not fire, value, says, facts, **more)

    def words(self) -> str:
        return self.says if isinstance(self.says, str) else self.says()

    def details(self) -> dict:
        return self.facts if isinstance(self.facts, dict) else self.facts()


@dataclass(frozen=True)
class Judged:
    """Many periods of one series judged at once (a replay, or twenty years on a rule's
    first look), as flat lists: per period whether the condition to fire and the one to
    resolve hold, or whether there was nothing to judge (`missing`). `step(i)` builds
    the whole `Step` of period i; the state machine asks for it only where the state may
    move (`alerts.machine.advance_all`). Its steps remember nothing (`Step.remember`)."""

    series: str
    periods: list[str]
    values: Sequence[float | None]
    fire: list[bool]
    clear: list[bool]
    missing: list[bool]
    step: Callable[[int], Step]

    def __len__(self) -> int:
        return len(self.periods)

    @classmethod
    def of(cls, series: str, steps: list[Step]) -> "Judged":
        """Steps already built, as a batch."""
        return cls(
            series,
            [step.period for step in steps],
            [step.value for step in steps],
            [step.fire for step in steps],
            [step.clear for step in steps],
            [step.missing for step in steps],
            steps.__getitem__,
        )


@dataclass(frozen=True)
class Notice:
    """Something that happened once (a revision, a news item, a broken run). `key` is
    unique per happening, so it is announced once however often rules are evaluated."""

    series: str
    key: str
    period: str | None
    value: float | None
    says: str
    facts: dict = field(default_factory=dict)
    snapshot_id: int | None = None


StateOf = Callable[[str], AlertState]


@dataclass(frozen=True, kw_only=True)
class Rule(Registered, family="rule"):
    """A condition over stored series, news or runs that fires and resolves alerts."""

    kinds: ClassVar[dict[str, type["Rule"]]]
    # True for rules about sources themselves (source health): evaluated first, and while
    # one fires for a source, alerts on that source's metrics are held back.
    inhibits: ClassVar[bool] = False

    name: str = field(metadata={"toml": False})
    channels: tuple[ChannelName, ...] = field(
        default=(), metadata={"help": "Names of the channels that receive this rule's alerts."}
    )
    labels: dict[str, str] = field(
        default_factory=dict,
        metadata={"help": "Free labels shown with the alert, e.g. { severity = 'warning' }."},
    )
    description: str = field(
        default="", metadata={"help": "What this rule watches, in words: the alert's title."}
    )
    repeat_interval: timedelta | None = field(
        default=None, metadata={"help": "Remind while still firing, e.g. '7d'. Unset: never."}
    )
    send_resolved: bool = field(
        default=True, metadata={"help": "Also notify when the condition is over."}
    )
    waits_for_metric: bool = field(
        default=False,
        metadata={
            "help": "The metric is still to come: no source publishes it yet, so `crossings "
            "check` accepts it (otherwise a metric nothing publishes is a config error)."
        },
    )

    @property
    def title(self) -> str:
        return self.description or self.name

    def fingerprint(self) -> str:
        """Changes when the condition changes (not when only channels or words do), so
        an edited rule is evaluated afresh."""
        ignored = {"name", "channels", "labels", "description", "repeat_interval",
                   "waits_for_metric"}  # fmt: skip
        kept = {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in ignored
        }
        text = f"{self.kind}:{sorted(kept.items(), key=lambda item: item[0])!r}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def observe(
        self, view: "View", cursor: Cursor, state_of: StateOf
    ) -> Iterator[Step | Judged | Notice]:
        """What changed since `cursor`, per series, oldest first."""
        raise NotImplementedError(f"rule kind {self.kind!r} does not implement observe()")

    def reads(self) -> tuple[str, ...]:
        """The metrics this rule reads, as names or patterns; the config loader warns
        about one that nothing produces. Rules on runs or news read none."""
        return ()

    def watches(self, metric: str) -> bool:
        """Whether this rule judges the series `metric` (its charts then show `drawing`)."""
        return False

    def drawing(self) -> Drawing | None:
        """What a chart of a watched series draws for this rule; None: no chart."""
        return None


Policy = Literal["keep", "alert", "resolve"]


def drawings_for(rules: Iterable[Rule], metric: str) -> list[tuple[str, Drawing]]:
    """(rule name, drawing) of every rule that draws on a chart of `metric`."""
    return [
        (rule.name, drawing)
        for rule in rules
        if rule.watches(metric) and (drawing := rule.drawing()) is not None
    ]


@dataclass(frozen=True, kw_only=True)
class StatefulRule(Rule):
    """A rule whose condition holds for a while: it fires, and later resolves. The words
    for timing are Prometheus's: `for` (pending before firing) and, after the resolve
    condition held `resolve_for`, `lift_after` (its `keep_firing_for`)."""

    for_: Span = field(
        default=Span(periods=1),
        metadata={
            "key": "for",
            "help": "Fire only after the condition held this long: periods in a row (3) or "
            "calendar days ('3d').",
        },
    )
    resolve_for: Span = field(
        default=Span(periods=1),
        metadata={
            "help": "The resolve condition must hold this long: periods in a row (28) or "
            "calendar days ('28d')."
        },
    )
    lift_after: Span | None = field(
        default=None,
        metadata={
            "help": "Once the resolve condition held `resolve_for`, stay firing this many "
            "calendar days more, then resolve ('14d'); the fire condition cancels it."
        },
    )
    no_data: Policy = field(
        default="keep",
        metadata={
            "help": "When there is nothing to judge (a window with missing days): keep the "
            "state, alert (a 'nodata' event), or resolve."
        },
    )
    on_error: Policy = field(
        default="keep",
        metadata={
            "help": "When the rule cannot be evaluated: keep the state (the log says why), "
            "alert (an 'error' event), or resolve what is firing."
        },
    )

    def __post_init__(self) -> None:
        """Spans given in Python as in TOML (3, '28d') become `Span`s."""
        for name in ("for_", "resolve_for", "lift_after", "window"):
            value = getattr(self, name, None)
            if value is not None and not isinstance(value, Span):
                object.__setattr__(self, name, Span.from_toml(value))

    def problems(self) -> list[str]:
        found = []
        for key, span in (("for", self.for_), ("resolve_for", self.resolve_for)):
            if span.length < 1:
                found.append(f"{key} must be at least 1 period or 1 day")
        if self.lift_after is not None and not self.lift_after.calendar:
            found.append("lift_after is calendar time: write it in days, e.g. '14d'")
        return found


@dataclass(frozen=True, kw_only=True)
class SeriesRule(StatefulRule):
    """A stateful rule over numeric series chosen by name or glob pattern."""

    metric: str = field(
        metadata={"help": "The metric name, or a pattern such as 'cbp.*' (one alert per series)."}
    )

    def matches(self, metric: str) -> bool:
        return fnmatch.fnmatchcase(metric, self.metric)

    def reads(self) -> tuple[str, ...]:
        return (self.metric,)

    def watches(self, metric: str) -> bool:
        return self.matches(metric)

    def drawing(self) -> Drawing | None:
        """The series itself, with no levels (a kind with levels says so)."""
        return Drawing()
