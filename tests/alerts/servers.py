"""Real servers on 127.0.0.1 for delivery tests: an SMTP server (aiosmtpd) with STARTTLS
and AUTH, and an HTTP receiver that checks webhook signatures and can be told to fail or
hang. Nothing here reaches beyond the machine."""

import datetime
import email
import email.policy
import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER, PASSWORD = "newsroom", "correct horse"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, written as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Mailbox:
    """Collects what the SMTP server accepted."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (USER, PASSWORD)
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    port: int
    cert: Path
    key: Path
    implicit_tls: bool = False  # SMTPS (port 465 style) instead of STARTTLS
    mailbox: Mailbox = field(default_factory=Mailbox)
    controller: Controller | None = None

    def start(self) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        # aiosmtpd counts only STARTTLS as TLS for AUTH; an SMTPS connection is TLS anyway.
        tls = {"ssl_context": context, "auth_require_tls": False} if self.implicit_tls else {
            "tls_context": context, "require_starttls": True
        }  # fmt: skip
        self.controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticator,
            auth_required=True,
            **tls,
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@dataclass
class Receiver:
    """An HTTP server that answers from a script ("500", "hang", then 200 by default) and
    keeps every request with whether its signature was valid."""

    secret: str
    script: list[str] = field(default_factory=list)
    hang_seconds: float = 1.5
    drip_every: float = 0.25  # seconds between the bytes of a "drip" answer
    requests: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers.get("X-Crossings-Timestamp", "")
                expected = (
                    "sha256="
                    + hmac.new(
                        receiver.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
                    ).hexdigest()
                )
                action = receiver.script.pop(0) if receiver.script else "200"
                receiver.requests.append(
                    {
                        "headers": dict(self.headers),
                        "json": json.loads(body),
                        "signed": hmac.compare_digest(
                            expected, self.headers.get("X-Crossings-Signature", "")
                        ),
                        "action": action,
                        "finished": action != "drip",
                    }
                )
                if action == "hang":
                    time.sleep(receiver.hang_seconds)
                    action = "200"
                if action == "drip":  # a whole answer, one byte at a time
                    body = b"ok" * 20
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(receiver.drip_every)
                    receiver.requests[-1]["finished"] = True
                    return
                self.send_response(int(action))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class DrippingSmtp:
    """An SMTP server that never finishes its greeting: a continuation line ("220-")
    every `every` seconds, each well within any read timeout, for `lasts` seconds."""

    def __init__(self, every: float = 0.2, lasts: float = 15.0) -> None:
        self.every, self.lasts = every, lasts
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut_off = threading.Event()  # the client hung up while we were still dripping
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        end = time.monotonic() + self.lasts
        with conn:
            try:
                while time.monotonic() < end:
                    conn.sendall(b"220-still saying hello\r\n")
                    time.sleep(self.every)
            except OSError:
                self.cut_off.set()

    def stop(self) -> None:
        self.listener.close()
