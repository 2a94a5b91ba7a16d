"""One value per metric and period in an extraction. A page that gives the same period
twice (a repeated row, a year in two tables) is ambiguous: storing both would keep the
last one, and merely reordering the rows would then record a revision that never
happened (and raise a revision alert). So duplicates make the run `broken`, naming the
rows, for every kind - unless the source says how to combine them (`duplicates`), always
in a way that does not depend on the order of the rows."""

import dataclasses
import math
import statistics
from collections import defaultdict
from collections.abc import Callable

from scrapers.extract import Extraction, LayoutError
from storage import Observation

# How a source may combine the values a page gives for one period; none depends on order.
COMBINE: dict[str, Callable[[list[float]], float]] = {
    "sum": math.fsum,  # exact: the same total in any order
    "min": min,
    "max": max,
    "mean": statistics.fmean,
}
SHOWN_AT_MOST = 5


def one_per_period(source: str, extraction: Extraction, combine: str) -> Extraction:
    """The extraction with one observation per (metric, period); LayoutError for
    duplicates unless `combine` is "same" (identical repeats) or a COMBINE key."""
    keys = {(observation.metric, observation.period) for observation in extraction.observations}
    if len(keys) == len(extraction.observations):  # the usual case: nothing repeated
        return extraction
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, observation in enumerate(extraction.observations):
        groups[(observation.metric, observation.period)].append(index)
    repeated = {key: indexes for key, indexes in groups.items() if len(indexes) > 1}
    if not repeated:
        return extraction
    observations = extraction.observations
    if combine == "same":
        differing = {
            key: indexes
            for key, indexes in repeated.items()
            if len({observations[i].value for i in indexes}) > 1
        }
        if differing:
            raise LayoutError(_reason(source, extraction, differing, "different values"))
    elif combine not in COMBINE:
        raise LayoutError(_reason(source, extraction, repeated, "more than one value"))
    kept: list[Observation] = []
    origins: list[str] = []
    for indexes in groups.values():
        first = observations[indexes[0]]
        if len(indexes) > 1 and combine in COMBINE:
            value = COMBINE[combine]([observations[i].value for i in indexes])
            flags = tuple(dict.fromkeys(f for i in indexes for f in observations[i].flags))
            first = Observation(first.metric, first.period, value, first.unit, flags)
        kept.append(first)
        origins.append(extraction.origins[indexes[0]])
    return dataclasses.replace(extraction, observations=kept, origins=origins)


def _reason(
    source: str, extraction: Extraction, repeated: dict[tuple[str, str], list[int]], what: str
) -> str:
    shown = []
    for (metric, period), indexes in list(repeated.items())[:SHOWN_AT_MOST]:
        rows = " and ".join(
            f"{extraction.origins[i] or f'value {i + 1}'} ({extraction.observations[i].value:g})"
            for i in indexes
        )
        shown.append(f"{metric} {period} in {rows}")
    more = len(repeated) - SHOWN_AT_MOST
    return (
        f"{source}: the page gives {what} for the same period: {'; '.join(shown)}"
        + (f"; and {more} more" if more > 0 else "")
        + ". Nothing was stored (the last row would win, and reordered rows would look "
        "like revisions). Fix the rows selected, or say how to combine them: duplicates = "
        '"sum", "mean", "min", "max" or "same" (identical repeats only)'
    )
