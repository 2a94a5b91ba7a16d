"""The base of every channel kind (email, webhook, console): where alerts are delivered.
A kind subclasses it with `kind="..."` and declares its own keys as fields. Secrets are
never keys: a channel names the environment variable that holds them."""

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True, kw_only=True)
class Channel:
    kinds: ClassVar[dict[str, type["Channel"]]] = {}
    kind: ClassVar[str] = ""

    name: str = field(metadata={"toml": False})

    def __init_subclass__(cls, kind: str = "", **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if kind:
            cls.kind = kind
            Channel.kinds[kind] = cls
