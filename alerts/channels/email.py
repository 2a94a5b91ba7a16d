"""Email over SMTP: SSL or STARTTLS, login with a password from an environment variable,
multipart text + HTML with inline chart images. Scraped text never reaches a header
unflattened, so a title with CR/LF cannot add headers."""

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Literal

from alerts.channel import Channel
from alerts.message import DeliveryError, Message, one_line


@dataclass(frozen=True, kw_only=True)
class Email(Channel, kind="email"):
    """Send alerts and digests by email (multipart text and HTML)."""

    host: str = field(metadata={"help": "SMTP server, e.g. smtp.example.org."})
    port: int = field(default=587, metadata={"help": "587 for STARTTLS, 465 for SSL."})
    security: Literal["starttls", "ssl", "none"] = field(
        default="starttls", metadata={"help": "starttls, ssl, or none (local relays only)."}
    )
    username: str = field(default="", metadata={"help": "Login name; empty: no login."})
    password_env: str = field(
        default="", metadata={"help": "Environment variable holding the SMTP password."}
    )
    sender: str = field(metadata={"help": "The From address, e.g. 'crossings <me@example.org>'."})
    to: tuple[str, ...] = field(metadata={"help": "Recipient addresses."})
    timeout: float = field(default=30.0, metadata={"help": "Seconds before giving up."})
    ca_file: Path | None = field(
        default=None, metadata={"help": "Trust this CA certificate file (self-hosted servers)."}
    )

    def problems(self) -> list[str]:
        found = []
        if not self.to:
            found.append("`to` needs at least one address")
        if self.username and not self.password_env:
            found.append("with `username`, set `password_env` to the variable holding the password")
        if self.security == "none" and self.username:
            found.append(
                "a login needs security = 'starttls' or 'ssl' (never a clear-text password)"
            )
        return found

    def compose(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = one_line(message.subject)
        mail["From"] = one_line(self.sender)
        mail["To"] = ", ".join(one_line(address) for address in self.to)
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = f"<{message.idempotency_key}@crossings>"
        mail["X-Crossings-Idempotency-Key"] = message.idempotency_key
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to alerts
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        if message.images:
            html = mail.get_body(("html",))
            assert isinstance(html, EmailMessage)  # added just above
            for cid, png in message.images.items():
                html.add_related(png, "image", "png", cid=f"<{cid}>")
        return mail

    def send(self, message: Message) -> None:
        mail = self.compose(message)
        password = self.secret(self.password_env, "SMTP password") if self.username else ""
        where = f"channel {self.name!r}: SMTP {self.host}:{self.port}"
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
            smtp: smtplib.SMTP
            if self.security == "ssl":
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.security == "starttls":
                    smtp.ehlo()
                    if not smtp.has_extn("starttls"):
                        raise DeliveryError(
                            f"{where}: the server does not offer STARTTLS; use security = "
                            "'ssl' (usually port 465)"
                        )
                    smtp.starttls(context=context)
                if self.username:
                    smtp.login(self.username, password)
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(
                f"{where}: login as {self.username!r} refused ({error.smtp_code}); check the "
                f"password in {self.password_env}"
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            raise DeliveryError(f"{where}: {error} (check `security` and `username`)") from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as error:
            raise DeliveryError(f"{where}: {type(error).__name__}: {error}") from None
