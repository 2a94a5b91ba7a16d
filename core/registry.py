"""One registration helper for every family of kinds (source kinds, rule kinds, channel
kinds): the config names a kind by its string, and the class that declares it is found
here. It lives in `storage`, the base every package may use, so that `scrapers` and
`alerts` share it without knowing each other.

    @dataclass(frozen=True, kw_only=True)
    class Source(Registered, family="source"): ...       # the root: gets its own registry

    @dataclass(frozen=True, kw_only=True)
    class TableSource(Source, kind="table"): ...          # a kind: registers itself

Two classes claiming one kind name is a programming error caught at import time, with
both places named, rather than the later one silently replacing the first."""

import importlib
import pkgutil
from collections.abc import Iterable
from typing import Any, ClassVar

from core.errors import CrossingsError


class DuplicateKind(CrossingsError, TypeError):
    """Two classes declare the same kind name in one family."""


class Registered:
    """Base of a family root. A subclass with `family="..."` starts a registry; its
    subclasses with `kind="..."` register in it; intermediate bases (no kind) do not."""

    __slots__ = ()  # a family with `slots=True` dataclasses keeps its instances dict-free

    family: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    kinds: ClassVar[dict[str, type[Any]]]

    def __init_subclass__(cls, *, family: str = "", kind: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if family:
            cls.family, cls.kinds = family, {}
        # `@dataclass(slots=True)` makes the class anew from the declared one's namespace,
        # without the class keywords: the kind it declared is registered again, as the
        # class the module names
        kind = kind or cls.__dict__.get("kind", "")
        if not kind:
            return
        taken = cls.kinds.get(kind)
        if taken is not None and _where(taken) != _where(cls):
            raise DuplicateKind(
                f"{cls.family} kind {kind!r} is declared twice: by {_where(taken)} and by "
                f"{_where(cls)}; give one of them another name"
            )
        cls.kind = kind
        cls.kinds[kind] = cls


def _where(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def import_kinds(package: str, path: Iterable[str]) -> None:
    """Import every module of a kinds package (`import_kinds(__name__, __path__)` in its
    `__init__`), so that a new kind is one new file: nothing else lists it."""
    for module in pkgutil.iter_modules(path, f"{package}."):
        importlib.import_module(module.name)
