"""The web pages behind a password (issue 28), a warning when they listen beyond this
machine without one, and an oversized request that costs one INFO line, not an ERROR with
a traceback. A real aiohttp server on 127.0.0.1; real HTTP requests."""

import dataclasses
import logging
import socket
from urllib.parse import urlsplit

import pytest
import requests

from jobs.web.access import exposure
from tests.query.sample import Sample
from tests.query.servers import serving

PASSWORD = "correct horse battery staple"


@pytest.fixture
def guarded(sample: Sample, monkeypatch):
    monkeypatch.setenv("CROSSINGS_TEST_WEB_PASSWORD", PASSWORD)
    settings = dataclasses.replace(
        sample.config.settings, web_password_env="CROSSINGS_TEST_WEB_PASSWORD"
    )
    with serving(dataclasses.replace(sample.config, settings=settings)) as url:
        yield url


def test_with_a_password_every_page_asks_for_it_but_healthz(guarded) -> None:
    refused = requests.get(f"{guarded}/", timeout=30)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Basic")
    assert requests.get(f"{guarded}/", auth=("anyone", "wrong"), timeout=30).status_code == 401
    assert requests.get(f"{guarded}/", auth=("anyone", PASSWORD), timeout=30).status_code == 200
    bearer = {"Authorization": f"Bearer {PASSWORD}"}
    assert requests.get(f"{guarded}/news", headers=bearer, timeout=30).status_code == 200
    assert requests.get(f"{guarded}/healthz", timeout=30).status_code in (200, 503)


def test_a_password_variable_left_unset_keeps_the_pages_closed(guarded, monkeypatch) -> None:
    monkeypatch.delenv("CROSSINGS_TEST_WEB_PASSWORD")
    closed = requests.get(f"{guarded}/", auth=("anyone", PASSWORD), timeout=30)
    assert closed.status_code == 503 and "CROSSINGS_TEST_WEB_PASSWORD" in closed.text


def test_listening_beyond_loopback_without_a_password_is_a_warning(sample: Sample) -> None:
    assert exposure("127.0.0.1", sample.config) is None
    assert exposure("::1", sample.config) is None
    warning = exposure("0.0.0.0", sample.config)
    assert warning and "without a password" in warning and "web_password_env" in warning
    settings = dataclasses.replace(sample.config.settings, web_password_env="X")
    assert exposure("0.0.0.0", dataclasses.replace(sample.config, settings=settings)) is None


def test_an_oversized_request_is_one_info_line_not_an_error(sample: Sample, caplog) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.server")
    with serving(sample.config) as url:
        address = urlsplit(url)
        with socket.create_connection((address.hostname, address.port), timeout=10) as client:
            client.sendall(b"GET /?" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = client.recv(100)
    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400")
    records = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert [r.levelname for r in records] == ["INFO"]
    assert "refused a malformed or oversized request (400)" in records[0].getMessage()
    assert records[0].exc_info is None
