"""Small text helpers shared by the extractors: slugs for metric names, and whitespace."""

import functools
import re

_NOT_WORD = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=8192)  # labels repeat on every row of a long table
def slug(text: str) -> str:
    """'Credible/Reasonable Fear' -> 'credible_reasonable_fear' (for metric names); a
    label that is only '%' (CBP's share rows) -> 'percent'."""
    made = _NOT_WORD.sub("_", text.lower()).strip("_")
    return made or ("percent" if "%" in text else "")


def squash(text: str) -> str:
    """Collapse runs of whitespace (including non-breaking spaces) to one space."""
    return " ".join(text.split())


def shown(items: list[str], limit: int = 12) -> str:
    """A list for an error message: quoted, and cut short when long."""
    quoted = [repr(item) for item in items[:limit]]
    more = f" ... (+{len(items) - limit})" if len(items) > limit else ""
    return "[" + ", ".join(quoted) + more + "]"
