"""Webhooks: a JSON POST signed with HMAC-SHA256 over "timestamp.body" (secret from an
environment variable), in a generic, Slack or Discord shape. `timeout` bounds the whole
request (connect, send, the full answer), so a receiver that hangs or drips its answer
delays one message by at most that, never the loop.

A Slack or Discord webhook URL is itself a secret: keep it in an environment variable
(`url_env`). Either way the URL's path and query never reach a log line or the database:
errors name the URL as `https://hooks.slack.com/…`."""

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from alerts.channel import Channel
from alerts.message import DeliveryError, Message, one_line
from core.checked import HttpUrl

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

    url: HttpUrl = field(
        default="", metadata={"help": "Where to POST (or use url_env if the URL is a secret)."}
    )
    url_env: str = field(
        default="",
        metadata={"help": "Environment variable holding the URL (Slack, Discord: it is a secret)."},
    )
    format: Literal["json", "slack", "discord"] = field(
        default="json", metadata={"help": "json (full event), slack or discord (text)."}
    )
    secret_env: str = field(
        default="", metadata={"help": "Environment variable holding the HMAC signing secret."}
    )
    timeout: float = field(
        default=10.0,
        metadata={"help": "Seconds the whole request may take (connect, send, the answer)."},
    )

    def problems(self) -> list[str]:
        if not 0 < self.timeout <= 600:
            return [f"timeout {self.timeout:g} is out of range: use more than 0, up to 600 s"]
        if bool(self.url) == bool(self.url_env):
            return ["give exactly one of `url` or `url_env` (a variable holding the URL)"]
        return []

    def target(self) -> str:
        """The URL, from the config or its environment variable."""
        if not self.url_env:
            return self.url
        url = self.secret(self.url_env, "webhook URL")
        if not url.startswith(("http://", "https://")):
            raise DeliveryError(
                f"channel {self.name!r}: ${self.url_env} must hold a URL starting with "
                "http:// or https://"
            )
        return url

    def body(self, message: Message) -> dict:
        """Scraped text must not ping a team: Slack control sequences (<!channel>) are
        escaped and Discord is told to parse no mentions (@everyone)."""
        if self.format == "slack":
            text = f"*{one_line(message.subject)}*\n{message.text}"
            for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
                text = text.replace(raw, escaped)
            return {"text": text}
        if self.format == "discord":
            return {
                "content": f"**{one_line(message.subject)}**\n{message.text}"[:2000],
                "allowed_mentions": {"parse": []},
            }
        return {
            "idempotency_key": message.idempotency_key,
            "subject": one_line(message.subject),
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
        url = self.target()
        where = f"channel {self.name!r}: POST {redacted(url)}"
        try:
            import asyncio  # here: loading the config must not cost its import

            status, answer = asyncio.run(_post(url, body, headers, self.timeout))
        except TimeoutError:
            raise DeliveryError(
                f"{where}: no complete answer within {self.timeout:g} s (the channel's timeout)"
            ) from None
        except Exception as error:  # aiohttp's errors, and OSError beneath them
            text = str(error).replace(url, redacted(url))
            raise DeliveryError(f"{where}: {type(error).__name__}: {text}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"{where}: answered HTTP {status}: {answer[:200].strip()}")


async def _post(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int, str]:
    """POST and read (the start of) the answer, all within `timeout` seconds."""
    import aiohttp  # here, not at the top: loading the config must not cost its import

    limit = aiohttp.ClientTimeout(total=timeout)
    async with (
        aiohttp.ClientSession(timeout=limit, trust_env=True) as session,
        session.post(url, data=body, headers=headers, allow_redirects=False) as answer,
    ):
        start = b""  # the whole answer is read (that is when it is complete); its start kept
        async for chunk in answer.content.iter_any():
            start += chunk[: max(0, 2000 - len(start))]
        return answer.status, start.decode("utf-8", "replace")


def redacted(url: str) -> str:
    """The URL without its path and query, which may carry a token:
    'https://hooks.slack.com/services/T0/B0/XYZ' -> 'https://hooks.slack.com/…'."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(a URL that cannot be parsed)"
    rest = "/…" if (parts.path not in ("", "/") or parts.query or parts.fragment) else ""
    return f"{parts.scheme}://{host}{port}{rest}"
