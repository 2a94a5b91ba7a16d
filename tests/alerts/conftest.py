"""Fixtures for alert tests: real SMTP and HTTP servers on 127.0.0.1."""

import pytest

from core.checked import free_port
from tests.alerts.servers import PASSWORD, Receiver, SmtpServer, self_signed

SECRET = "s3cret-for-tests"


@pytest.fixture
def tls_files(tmp_path):
    return self_signed(tmp_path)


@pytest.fixture
def smtp(tls_files, monkeypatch):
    """A running SMTP server that requires STARTTLS and login; its password is in
    $CROSSINGS_TEST_SMTP_PASSWORD, as a channel's password_env would name."""
    monkeypatch.setenv("CROSSINGS_TEST_SMTP_PASSWORD", PASSWORD)
    server = SmtpServer(free_port(), *tls_files)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv("CROSSINGS_TEST_HOOK_SECRET", SECRET)
    server = Receiver(SECRET)
    server.start()
    yield server
    server.stop()
