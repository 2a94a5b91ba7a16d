"""The base of every rule kind: the keys all rules share (labels, channels, repeats).
A kind subclasses it with `kind="..."` and declares its own keys as fields."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import ClassVar


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A condition over stored series, news or runs that fires and resolves alerts."""

    kinds: ClassVar[dict[str, type["Rule"]]] = {}
    kind: ClassVar[str] = ""

    name: str = field(metadata={"toml": False})
    channels: tuple[str, ...] = field(
        default=(), metadata={"help": "Names of the channels that receive this rule's alerts."}
    )
    labels: dict[str, str] = field(
        default_factory=dict,
        metadata={"help": "Free labels shown with the alert, e.g. { severity = 'warning' }."},
    )
    description: str = field(default="", metadata={"help": "What this rule watches, in words."})
    repeat_interval: timedelta | None = field(
        default=None, metadata={"help": "Remind while still firing, e.g. '7d'. Unset: never."}
    )
    send_resolved: bool = field(
        default=True, metadata={"help": "Also notify when the condition is over."}
    )

    def __init_subclass__(cls, kind: str = "", **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if kind:
            cls.kind = kind
            Rule.kinds[kind] = cls
