"""The base of every channel kind (email, webhook, console, apprise): where alerts are
delivered. A kind subclasses it with `kind="..."`, declares its own keys as fields and
implements `send`, which raises DeliveryError saying what failed. Secrets are never keys:
a channel names the environment variable that holds them (keys ending in `_env`)."""

import os
from dataclasses import dataclass, field
from typing import ClassVar

from alerts.message import DeliveryError, Message
from storage.registry import Registered


@dataclass(frozen=True, kw_only=True)
class Channel(Registered, family="channel"):
    kinds: ClassVar[dict[str, type["Channel"]]]

    name: str = field(metadata={"toml": False})

    def send(self, message: Message) -> None:
        """Deliver one message or raise DeliveryError."""
        raise NotImplementedError(f"channel kind {self.kind!r} does not implement send()")

    def secret(self, variable: str, what: str) -> str:
        """The value of an environment variable the config names; a clear error if unset."""
        value = os.environ.get(variable, "")
        if not value:
            raise DeliveryError(
                f"channel {self.name!r}: environment variable {variable} is not set; it must "
                f"hold the {what} (export {variable}=... where crossings runs)"
            )
        return value
