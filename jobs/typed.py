"""Turning TOML tables into the frozen dataclasses that the parts of crossings declare,
collecting every problem with its location and a hint instead of stopping at the first.

A settings class declares its keys as dataclass fields: the type says what is accepted,
a default makes the key optional, and `metadata={"help": ...}` explains it (shown by
`crossings init` and in the docs). A class may add `problems(self) -> list[str]` for
checks across keys. Durations are written "30s", "15m", "6h", "45d" or "2w" and arrive
as `timedelta`. Checked text types (`Regex`, `HttpUrl`, `HostPort` in `core.checked`)
are checked here, and the same checks back the CLI's options (`ClickType`)."""

import dataclasses
import difflib
import functools
import math
import re
import types
import typing
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import click

from core.checked import Check, Refers

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclasses.dataclass(frozen=True)
class Problem:
    """One mistake in the config: where it is, what is wrong, and what to do."""

    where: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" + (f" ({self.hint})" if self.hint else "")


LARGEST_COUNT = 1_000_000_000  # any whole number in the config: past it, a typo
LONGEST_DURATION = timedelta(days=3660)  # ten years: any longer is a typo, and overflows dates


def parse_duration(text: str) -> timedelta:
    """'90s', '15m', '6h', '45d', '2w' -> timedelta; ValueError with the accepted forms."""
    match = DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration; write e.g. '30s', '15m', '6h', '45d', '2w'")
    return _duration(float(match[1]) * DURATION_UNITS[match[2]], text)


def _duration(seconds: float, shown: object) -> timedelta:
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{shown!r} is not a duration of zero or more seconds")
    if seconds > LONGEST_DURATION.total_seconds():
        raise ValueError(f"{shown!r} is longer than ten years")
    return timedelta(seconds=seconds)


def format_duration(duration: timedelta) -> str:
    """timedelta -> the largest unit that writes it whole: 2 days -> '2d', 90 s -> '90s'."""
    seconds = duration.total_seconds()
    for unit, size in sorted(DURATION_UNITS.items(), key=lambda item: -item[1]):
        if seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


@functools.cache
def hints_of(cls: type) -> dict[str, Any]:
    """The resolved type of every field (cached: resolving is slow and a config may hold
    a thousand sources of the same kind)."""
    return typing.get_type_hints(cls, include_extras=True)


def checks_of(hint: Any) -> tuple[Check, ...]:
    """The checks an `Annotated[str, Check(...)]` carries (none for a plain type)."""
    if typing.get_origin(hint) is Annotated:
        return tuple(m for m in hint.__metadata__ if isinstance(m, Check))
    return ()


def plain(hint: Any) -> Any:
    """The type under any checks: `Regex` -> str."""
    return typing.get_args(hint)[0] if typing.get_origin(hint) is Annotated else hint


def type_name(hint: Any) -> str:
    """How `crossings kinds` shows a key's type: 'str', 'regex', 'url', 'host:port'..."""
    if checks := checks_of(hint):
        return checks[0].name
    return getattr(hint, "__name__", str(hint))


def references(instance: Any) -> list[tuple[str, Refers, str]]:
    """Every (key, what it refers to, name) in a built settings object whose key type is
    marked `Refers` (alone or in a tuple), for the loader to check against the config."""
    found = []
    cls: type = type(instance)
    for key, refers in _referring(cls):
        value = getattr(instance, key, None)
        for name in value if isinstance(value, tuple) else (value,):
            if name and name != refers.anything:
                found.append((key, refers, name))
    return found


@functools.cache
def _referring(cls: type) -> tuple[tuple[str, Refers], ...]:
    """The keys of `cls` marked `Refers` and what each refers to (cached: read from the
    types once per class, not once per source)."""
    found = []
    for key, hint in hints_of(cls).items():
        inner = typing.get_args(hint)[0] if typing.get_origin(hint) is tuple else hint
        if typing.get_origin(inner) is Annotated:
            found += [(key, m) for m in inner.__metadata__ if isinstance(m, Refers)]
    return tuple(found)


class ClickType(click.ParamType):
    """A checked config type as a click option type, so the CLI says the same thing."""

    def __init__(self, hint: Any) -> None:
        self.hint = hint
        self.name = type_name(hint)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            for check in checks_of(self.hint):
                check.check(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)
        return value


def keys_of(cls: type) -> list[dataclasses.Field]:
    """The keys a settings class accepts in TOML (fields marked `toml=False` are filled
    by crossings, e.g. a name taken from the table key)."""
    return [
        f for f in dataclasses.fields(cls) if f.init and f.metadata.get("toml", True) is not False
    ]


def toml_key(field: dataclasses.Field) -> str:
    """The key a field is written as: its name, unless a Python keyword forces another
    (`for_` is written `for`, as in Prometheus)."""
    return field.metadata.get("key", field.name)


def required(field: dataclasses.Field) -> bool:
    """Whether a key must be given: it has neither a default nor a default factory."""
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


@functools.cache
def _keyed(cls: type) -> Mapping[str, dataclasses.Field]:
    """A class's TOML keys and their fields (cached: a config builds a thousand sources
    of one kind)."""
    return types.MappingProxyType({toml_key(f): f for f in keys_of(cls)})


def help_of(field: dataclasses.Field) -> str:
    """What a key means, as `crossings kinds`, `crossings init` and errors show it."""
    return field.metadata.get("help", "")


def build(cls: type, table: Any, where: str, problems: list[Problem], **given: Any) -> Any | None:
    """Build `cls` from a TOML table; on any mistake append Problems and return None."""
    if not isinstance(table, dict):
        problems.append(Problem(where, f"expected a table of keys, found {_shown(table)}"))
        return None
    hints = hints_of(cls)
    fields = _keyed(cls)
    before = len(problems)
    values = dict(given)
    for key, raw in table.items():
        if key in given:
            continue
        field = fields.get(key) or fields.get(key.replace("-", "_"))
        if field is None:
            problems.append(Problem(where, f"unknown key {key!r}", _suggest(key, fields)))
            continue
        try:
            values[field.name] = _convert(hints[field.name], raw, f"{where}, key {key!r}", problems)
        except ValueError as error:
            problems.append(Problem(where, f"key {key!r}: {error}"))
            values[field.name] = dataclasses.MISSING  # reported: not "missing" as well
    for name, field in fields.items():
        if required(field) and field.name not in values:
            problems.append(Problem(where, f"missing required key {name!r}", help_of(field)))
    if len(problems) > before:
        return None
    instance = cls(**values)
    for message in getattr(instance, "problems", lambda: [])():
        problems.append(Problem(where, message))
    return instance if len(problems) == before else None


def _convert(hint: Any, raw: Any, where: str, problems: list[Problem]) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        value = _convert(args[0], raw, where, problems)
        for check in checks_of(hint):
            check.check(value)
        return value
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in args if arg is not type(None)]
        return _convert(options[0], raw, where, problems) if len(options) == 1 else raw
    if origin is Literal:
        if raw not in args:
            raise ValueError(f"{_shown(raw)} is not one of {', '.join(map(repr, args))}")
        return raw
    if origin in (tuple, list):
        if not isinstance(raw, list):
            raise ValueError(f"expected a list, found {_shown(raw)}")
        item_type = args[0]
        return tuple(_convert(item_type, item, where, problems) for item in raw)
    if origin is dict:
        if not isinstance(raw, dict):
            raise ValueError(f"expected a table, found {_shown(raw)}")
        return {str(k): _convert(args[1], v, where, problems) for k, v in raw.items()}
    if hasattr(hint, "from_toml"):  # a type that reads its own TOML form (series.windows.Span)
        return hint.from_toml(raw)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        built = build(hint, raw, where, problems)
        if built is None:
            raise ValueError("see the problems above")
        return built
    return _scalar(hint, raw)


def _scalar(hint: Any, raw: Any) -> Any:
    if hint is Any:
        return raw
    if hint is bool:
        if not isinstance(raw, bool):
            raise ValueError(f"expected true or false, found {_shown(raw)}")
        return raw
    if hint is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"expected a whole number, found {_shown(raw)}")
        if abs(raw) > LARGEST_COUNT:
            raise ValueError(
                f"{_digits(raw)} is out of range: whole numbers go up to {LARGEST_COUNT:,}"
            )
        return raw
    if hint is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError(f"expected a number, found {_shown(raw)}")
        if not math.isfinite(raw):
            raise ValueError(f"expected a finite number, found {raw!r}")
        return float(raw)
    if hint is timedelta:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise ValueError(f"expected a duration such as '6h', found {_shown(raw)}")
        return _duration(raw, raw) if isinstance(raw, int | float) else parse_duration(raw)
    if hint in (str, Path):
        if not isinstance(raw, str):
            raise ValueError(f"expected text, found {_shown(raw)}")
        return hint(raw)
    raise TypeError(f"settings type {hint!r} is not supported by jobs.typed")


def _digits(number: int) -> str:
    """A whole number shown whole, or by its first digits when it is very long."""
    text = str(number)
    return text if len(text) <= 20 else f"{text[:12]}... ({len(text)} digits)"


def _shown(raw: Any) -> str:
    kind = {dict: "a table", list: "a list", str: "text", bool: "a boolean"}.get(
        type(raw), type(raw).__name__
    )
    return f"{kind} {raw!r}" if not isinstance(raw, dict | list) else kind


def _suggest(key: str, fields: Mapping[str, dataclasses.Field]) -> str:
    close = difflib.get_close_matches(key, list(fields), n=1)
    known = ", ".join(sorted(fields))
    return f"did you mean {close[0]!r}?" if close else f"known keys: {known}"


def unknown_kind(kind: Any, known: Mapping[str, type]) -> tuple[str, str]:
    """The message and hint for a `kind` that no class registered."""
    names = ", ".join(sorted(known))
    if not isinstance(kind, str):
        return "missing key 'kind'", f"known: {names}"
    close = difflib.get_close_matches(kind, list(known), n=1)
    hint = f"known: {names}" + (f"; did you mean {close[0]!r}?" if close else "")
    return f'unknown kind "{kind}"', hint
