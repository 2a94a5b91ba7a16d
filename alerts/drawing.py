"""What a chart of a series draws for a rule that watches it: the rule's levels and, for
a windowed rule, the aggregate it compares. A rule kind says this once (`Rule.drawing`);
the alert email, the digest and the web page's metric chart all draw from it.

An alert's payload carries its drawing (`Drawing.facts`), so the email chart shows the
levels the rule had when it fired, even if the config changed since."""

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "last": lambda values: values[-1],
    "mean": statistics.fmean,
    "sum": math.fsum,
    "min": min,
    "max": max,
}


def rolling(values: Sequence[float], window: int, aggregate: str) -> list[float | None]:
    """The `aggregate` over the last `window` values at each position (None before a full
    window): what a windowed rule compares, and what charts draw."""
    combine = AGGREGATES[aggregate]
    return [
        combine(list(values[i - window + 1 : i + 1])) if i >= window - 1 else None
        for i in range(len(values))
    ]


@dataclass(frozen=True)
class Level:
    """A horizontal line: the config key that sets it (e.g. `above`, `resolve_below`),
    its value, and whether it is where the alert resolves rather than fires."""

    key: str
    value: float
    resolves: bool = False


@dataclass(frozen=True)
class Drawing:
    levels: tuple[Level, ...] = ()
    window: int = 1
    aggregate: str = "last"
    measure: str = "value"  # or e.g. "7-period mean": what the rule compares

    def judged(self, values: Sequence[float]) -> list[float | None]:
        """The aggregate the rule compares, per period; empty when it compares the value."""
        return rolling(values, self.window, self.aggregate) if self.window > 1 else []

    def facts(self) -> dict:
        """Kept in an alert's payload (JSON)."""
        return {"drawing": asdict(self)}

    @classmethod
    def from_facts(cls, facts: dict) -> "Drawing | None":
        found = facts.get("drawing")
        if found is None:
            return None
        levels = tuple(Level(**level) for level in found.get("levels", ()))
        return cls(**{**found, "levels": levels})
