"""The base of every channel kind (email, webhook, console, apprise): where alerts are
delivered. A kind subclasses it with `kind="..."`, declares its own keys as fields and
implements `send`, which raises DeliveryError saying what failed. Secrets are never keys:
a channel names the environment variable that holds them (keys ending in `_env`)."""

import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import ClassVar

from alerts.message import DeliveryError, Message
from core.registry import Registered

# How long an undelivered message is retried: the default of [settings] retry_alerts_for
# (here, not in delivery, so that reading the config loads no templates nor charts).
RETRY_FOR = timedelta(days=2)


@dataclass(frozen=True, kw_only=True)
class Channel(Registered, family="channel"):
    kinds: ClassVar[dict[str, type["Channel"]]]

    name: str = field(metadata={"toml": False})
    group_by: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "Alerts due together become one message per group: by 'source', 'rule', "
            "'series' or a label name (e.g. ['source']); empty: one message for all."
        },
    )
    group_wait: timedelta = field(
        default=timedelta(0),
        metadata={"help": "Hold a new alert this long so others can join its message ('30s')."},
    )

    def group_of(self, event: dict) -> tuple[str, ...]:
        """The group an event's message belongs to (Alertmanager's group_by)."""
        special = {
            "source": (event.get("source") or {}).get("name", ""),
            "rule": event.get("rule", ""),
            "series": event.get("series", ""),
        }
        labels = event.get("labels") or {}
        return tuple(str(special.get(key, labels.get(key, ""))) for key in self.group_by)

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
