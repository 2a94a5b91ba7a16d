"""Console: alerts go to the log (stderr of the daemon or command)."""

import logging
from dataclasses import dataclass

from alerts.channel import Channel
from alerts.message import Message

log = logging.getLogger("crossings.alerts.console")


@dataclass(frozen=True, kw_only=True)
class Console(Channel, kind="console"):
    """Write alerts to the log: for trying rules out, and for containers' log collectors."""

    def send(self, message: Message) -> None:
        log.warning("%s\n%s", message.subject, message.text)
