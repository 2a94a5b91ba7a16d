"""Webhooks: a JSON POST signed with HMAC-SHA256 over "timestamp.body" (secret from an
environment variable), in a generic, Slack or Discord shape. Timeouts bound every
request, so a receiver that hangs delays one message, never the loop."""

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Literal

from alerts.channel import Channel
from alerts.message import DeliveryError, Message
from storage.checked import HttpUrl

SIGNATURE_HEADER = "X-Crossings-Signature"
TIMESTAMP_HEADER = "X-Crossings-Timestamp"
KEY_HEADER = "Idempotency-Key"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """What receivers recompute: hex HMAC-SHA256 of `timestamp.body`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


@dataclass(frozen=True, kw_only=True)
class Webhook(Channel, kind="webhook"):
    """POST alerts as JSON to a URL (generic, Slack- or Discord-compatible)."""

    url: HttpUrl = field(metadata={"help": "Where to POST."})
    format: Literal["json", "slack", "discord"] = field(
        default="json", metadata={"help": "json (full event), slack or discord (text)."}
    )
    secret_env: str = field(
        default="", metadata={"help": "Environment variable holding the HMAC signing secret."}
    )
    timeout: float = field(default=10.0, metadata={"help": "Seconds before giving up."})

    def body(self, message: Message) -> dict:
        """Scraped text must not ping a team: Slack control sequences (<!channel>) are
        escaped and Discord is told to parse no mentions (@everyone)."""
        if self.format == "slack":
            text = f"*{message.subject}*\n{message.text}"
            for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
                text = text.replace(raw, escaped)
            return {"text": text}
        if self.format == "discord":
            return {
                "content": f"**{message.subject}**\n{message.text}"[:2000],
                "allowed_mentions": {"parse": []},
            }
        return {
            "idempotency_key": message.idempotency_key,
            "subject": message.subject,
            "text": message.text,
            "data": message.data,
        }

    def send(self, message: Message) -> None:
        body = json.dumps(self.body(message), default=str).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "crossings-alerts",
            KEY_HEADER: message.idempotency_key,
            TIMESTAMP_HEADER: timestamp,
        }
        if self.secret_env:
            secret = self.secret(self.secret_env, "webhook signing secret")
            headers[SIGNATURE_HEADER] = signature(secret, timestamp, body)
        where = f"channel {self.name!r}: POST {self.url}"
        import requests  # here, not at the top: loading the config must not cost 5 MB

        try:
            response = requests.post(
                self.url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
            )
        except requests.Timeout:
            raise DeliveryError(f"{where}: no answer within {self.timeout:g} s") from None
        except requests.RequestException as error:
            raise DeliveryError(f"{where}: {type(error).__name__}: {error}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(
                f"{where}: answered HTTP {response.status_code}: {response.text[:200].strip()}"
            )
