"""Apprise: the many other services (Telegram, Matrix, Teams, ...) through Apprise URLs,
kept in an environment variable because they carry tokens. Needs the `apprise` extra."""

import importlib
from dataclasses import dataclass, field

from alerts.channel import Channel
from alerts.message import DeliveryError, Message


@dataclass(frozen=True, kw_only=True)
class Apprise(Channel, kind="apprise"):
    """Send through Apprise URLs (install with `pip install 'crossings[apprise]'`)."""

    urls_env: str = field(
        metadata={"help": "Environment variable holding Apprise URLs, separated by spaces."}
    )

    def send(self, message: Message) -> None:
        try:
            apprise = importlib.import_module("apprise")
        except ImportError:
            raise DeliveryError(
                f"channel {self.name!r} needs Apprise: pip install 'crossings[apprise]'"
            ) from None
        notifier = apprise.Apprise()
        for url in self.secret(self.urls_env, "Apprise URLs").split():
            notifier.add(url)
        if not notifier.notify(title=message.subject, body=message.text):
            raise DeliveryError(
                f"channel {self.name!r}: Apprise could not deliver (see its log for which URL)"
            )
