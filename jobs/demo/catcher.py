"""Stand-ins for a mail server and a webhook endpoint, so that the demo delivers real
alerts (SMTP and signed HTTP POSTs) without the internet and shows what arrived.

Both run on the demo's asyncio loop on 127.0.0.1 and hand each delivery to a callback."""

import asyncio
import base64
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import partial
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from alerts.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

LOCALHOST = "127.0.0.1"
MAX_WEBHOOK_BYTES = 1_000_000


@dataclass(frozen=True)
class Mail:
    """One email as the catcher received it."""

    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""

    def html_page(self) -> str:
        """The HTML part as a page a browser shows whole: inline images (cid:) become
        data: URLs."""
        page = self.html
        for part in self.message.walk():
            content_id = part.get("Content-ID")
            if content_id and part.get_content_maintype() == "image":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)  # decode=True on a non-multipart part
                data = base64.b64encode(payload).decode()
                url = f"data:{part.get_content_type()};base64,{data}"
                page = page.replace(f"cid:{content_id.strip('<>')}", url)
        return page


@dataclass(frozen=True)
class Webhook:
    """One POST as the receiver got it; `signed` is None when it carried no signature."""

    path: str
    headers: dict[str, str]
    body: bytes
    signed: bool | None

    @property
    def payload(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class MailCatcher:
    """An SMTP server that accepts every message for any recipient and keeps nothing but
    what it hands to `on_mail`."""

    def __init__(self, on_mail: Callable[[Mail], None]) -> None:
        self.on_mail = on_mail
        self.port = 0
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            partial(SMTP, self, hostname="crossings-demo"), LOCALHOST, 0
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """aiosmtpd's hook for a complete message."""
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or b"")
        self.on_mail(
            Mail(
                sender=envelope.mail_from or "",
                recipients=tuple(envelope.rcpt_tos),
                message=message,
            )
        )
        return "250 Message accepted for delivery"


class WebhookReceiver:
    """An HTTP endpoint that accepts JSON POSTs on any path and checks their signature
    with the shared secret."""

    def __init__(self, secret: str, on_webhook: Callable[[Webhook], None]) -> None:
        self.secret = secret
        self.on_webhook = on_webhook
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application(client_max_size=MAX_WEBHOOK_BYTES)
        app.router.add_post("/{path:.*}", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOCALHOST, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{LOCALHOST}:{port}/webhook"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        self.on_webhook(
            Webhook(
                path=request.path,
                headers=headers,
                body=body,
                signed=signature_valid(self.secret, headers, body),
            )
        )
        return web.json_response({"ok": True})


def signature_valid(secret: str, headers: dict[str, str], body: bytes) -> bool | None:
    """Recompute the sender's HMAC as any receiver would; None when the POST is unsigned."""
    lowered = {key.lower(): value for key, value in headers.items()}
    sent = lowered.get(SIGNATURE_HEADER.lower())
    if sent is None:
        return None
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    return hmac.compare_digest(sent, signature(secret, timestamp, body))
