"""Email over SMTP: SSL or STARTTLS, login with a password from an environment variable,
multipart text + HTML with inline chart images. Scraped text never reaches a header
unflattened, so a title with CR/LF cannot add headers. `timeout` bounds the whole
conversation (core.deadline), not each read, so a server that drips its answers delays
one message by at most that."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from alerts.channel import Channel

if TYPE_CHECKING:  # smtplib, ssl and email load when a mail is sent, not with the config
    from email.message import EmailMessage
from alerts.message import DeliveryError, Message, one_line
from core.deadline import Deadline


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
    timeout: float = field(
        default=30.0,
        metadata={"help": "Seconds the whole conversation with the server may take."},
    )
    ca_file: Path | None = field(
        default=None, metadata={"help": "Trust this CA certificate file (self-hosted servers)."}
    )

    def problems(self) -> list[str]:
        found = []
        if not 1 <= self.port <= 65535:
            found.append(f"port {self.port} is not a TCP port (1 to 65535)")
        if not 0 < self.timeout <= 600:
            found.append(f"timeout {self.timeout:g} is out of range: use more than 0, up to 600 s")
        if not self.to:
            found.append("`to` needs at least one address")
        if self.username and not self.password_env:
            found.append("with `username`, set `password_env` to the variable holding the password")
        if self.security == "none" and self.username:
            found.append(
                "a login needs security = 'starttls' or 'ssl' (never a clear-text password)"
            )
        return found

    def compose(self, message: Message) -> "EmailMessage":
        from email.message import EmailMessage
        from email.utils import formatdate

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
        import smtplib
        import ssl

        mail = self.compose(message)
        password = self.secret(self.password_env, "SMTP password") if self.username else ""
        where = f"channel {self.name!r}: SMTP {self.host}:{self.port}"
        deadline = Deadline(self.timeout)
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
            smtp: smtplib.SMTP
            if self.security == "ssl":
                smtp = smtplib.SMTP_SSL(timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(timeout=self.timeout)
            # Connected inside the deadline's guard (the greeting counts too); smtplib
            # takes the TLS server name from the constructor's host, so it is set here.
            vars(smtp)["_host"] = self.host
            with deadline.guarding(lambda: getattr(smtp, "sock", None)), smtp:
                smtp.connect(self.host, self.port)
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
        except (DeliveryError, smtplib.SMTPException, ssl.SSLError, OSError) as error:
            if deadline.expired:
                raise DeliveryError(
                    f"{where}: no complete answer within {self.timeout:g} s (the channel's timeout)"
                ) from None
            raise self._explained(error, where) from None

    def _explained(self, error: Exception, where: str) -> DeliveryError:
        import smtplib

        """An SMTP failure as a DeliveryError that says what to check."""
        if isinstance(error, DeliveryError):
            return error
        if isinstance(error, smtplib.SMTPAuthenticationError):
            return DeliveryError(
                f"{where}: login as {self.username!r} refused ({error.smtp_code}); check the "
                f"password in {self.password_env}"
            )
        if isinstance(error, smtplib.SMTPNotSupportedError):
            return DeliveryError(f"{where}: {error} (check `security` and `username`)")
        return DeliveryError(f"{where}: {type(error).__name__}: {error}")
