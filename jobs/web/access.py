"""Who may read the web pages, and what a malformed request costs in the log.

The pages show every stored figure, alert and news item; they listen on loopback by
default. Where they listen beyond it (the container listens on 0.0.0.0), `[settings]
web_password_env` names an environment variable holding a password: every page then
asks for it (HTTP Basic with any user name, or `Authorization: Bearer PASSWORD`), except
/healthz, which container health checks ask. Without one, listening beyond loopback is
a warning at start-up (`exposure`).

A request too large or malformed for aiohttp's parser (a 20 KB header line) is refused
with 400 by aiohttp itself, which logs an ERROR with a traceback for each: a stranger
could fill the log. `QuietBadRequests` turns those into one INFO line."""

import base64
import binascii
import hmac
import ipaddress
import logging
import os
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from jobs.config import Config

OPEN_PATHS = frozenset({"/healthz"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def guard(app: web.Application, config: Config) -> None:
    """Ask every request for the password, when `web_password_env` names one."""
    variable = config.settings.web_password_env
    if not variable:
        return
    app.middlewares.append(_password_middleware(variable))


def _password_middleware(variable: str) -> Callable:
    @web.middleware
    async def password(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS:
            return await handler(request)
        expected = os.environ.get(variable, "")
        if not expected:  # closed, not open, when the password is missing
            raise web.HTTPServiceUnavailable(
                text=f"web_password_env names {variable}, which is not set where crossings "
                "runs: the pages stay closed until it is"
            )
        if not _given(request.headers.get("Authorization", ""), expected):
            raise web.HTTPUnauthorized(
                headers={"WWW-Authenticate": 'Basic realm="crossings", charset="UTF-8"'},
                text="this crossings asks for a password",
            )
        return await handler(request)

    return password


def _given(header: str, expected: str) -> bool:
    """Whether the Authorization header carries the password (Basic, any user; Bearer)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return hmac.compare_digest(value.strip().encode(), expected.encode())
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(decoded.partition(":")[2].encode(), expected.encode())


def exposure(host: str, config: Config) -> str | None:
    """A warning when the pages listen beyond this machine without a password."""
    if config.settings.web_password_env or _loopback(host):
        return None
    return (
        f"the web pages listen on {host}, beyond this machine, without a password: anyone "
        "who reaches the port reads every stored figure, alert and news item. Set "
        "web_password_env in [settings] (docs/configuration.md), or listen on 127.0.0.1"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve beyond loopback


class QuietBadRequests(logging.Filter):
    """aiohttp's ERROR and traceback for a request its parser refused (400), as one INFO
    line: the client is told, the log notes it, nothing is wrong with crossings."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError) and error.code == 400:
            record.msg = "refused a malformed or oversized request (400): %s"
            record.args = (" ".join(str(error.message).split())[:200],)
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info = record.exc_text = None
        return True


def quiet_bad_requests() -> None:
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, QuietBadRequests) for f in server_log.filters):
        server_log.addFilter(QuietBadRequests())
