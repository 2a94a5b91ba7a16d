"""What delivery promises, through real servers: a send never takes longer than its
channel's `timeout` however the receiver drips its answer; an alert is retried for the
configured time (default 2 days), then marked dead, announced through the other channels,
listed with its error, and sent again by `crossings alerts retry`; a webhook URL (a
secret for Slack or Discord) can live in the environment and never reaches a log line or
the database."""

import logging
from datetime import timedelta

import pytest
from click.testing import CliRunner

from alerts.channels.email import Email
from alerts.channels.webhook import Webhook
from alerts.delivery import deliver_due
from alerts.engine import evaluate
from alerts.message import DeliveryError, Message
from core.checked import free_port
from jobs.cli import cli
from jobs.config import load
from storage import Observation, Store
from tests.alerts.servers import USER, DrippingSmtp, Receiver, SmtpServer
from tests.alerts.test_delivery import T0, backlog_alert, hook_channel

MESSAGE = Message(subject="s", text="t", html="<p>t</p>", data={}, idempotency_key="k1")


def test_a_webhook_that_drips_its_answer_is_cut_off_at_the_channel_timeout(receiver):
    receiver.script = ["drip"]  # 40 bytes, a quarter second apart: 10 s in all
    channel = hook_channel(receiver, timeout=1.0)
    with pytest.raises(DeliveryError, match=r"no complete answer within 1 s"):
        channel.send(MESSAGE)
    assert receiver.requests and receiver.requests[0]["finished"] is False


def test_an_smtp_server_that_drips_its_greeting_is_cut_off_at_the_channel_timeout():
    server = DrippingSmtp()
    channel = Email(name="newsroom", host="127.0.0.1", port=server.port, security="none",
                    sender="a@example.org", to=("b@example.org",), timeout=1.0)  # fmt: skip
    try:
        with pytest.raises(DeliveryError, match=r"no complete answer within 1 s"):
            channel.send(MESSAGE)
        assert server.cut_off.wait(10)  # we hung up while it was still talking
    finally:
        server.stop()


CONFIG = """
[settings]
database = "crossings.db"

[channels.newsroom]
kind = "email"
host = "127.0.0.1"
port = {port}
username = "{user}"
password_env = "CROSSINGS_TEST_SMTP_PASSWORD"
sender = "crossings <alerts@example.org>"
to = ["desk@example.org"]
timeout = 5
ca_file = "{cert}"

[channels.hook]
kind = "webhook"
url = "{hook}"

[rules.backlog]
kind = "threshold"
description = "TRAC backlog passed 3.5 million"
metric = "trac.backlog"
above = 3_500_000
channels = ["newsroom"]
"""


def test_an_alert_is_retried_for_days_then_dead_announced_listed_and_sent_again(
    tmp_path, tls_files, receiver, monkeypatch
):
    from tests.alerts.conftest import PASSWORD

    monkeypatch.setenv("CROSSINGS_TEST_SMTP_PASSWORD", PASSWORD)
    port = free_port()  # the mail server is down: nothing listens here yet
    path = tmp_path / "crossings.toml"
    path.write_text(CONFIG.format(port=port, user=USER, cert=tls_files[0], hook=receiver.url))
    config = load(path)
    cli_run = lambda *args: CliRunner().invoke(cli, ["--config", str(path), *args])  # noqa: E731
    with Store(config.database) as store:
        store.observations.upsert(
            [Observation("trac.backlog", "FY2024", 3_596_229)], snapshot_id=None
        )
        assert len(evaluate(store, config.rules, now=T0)) == 1
        now = T0
        while now < T0 + timedelta(hours=23):  # an outage of a day: many attempts, not dead
            deliver_due(store, config.channels, now=now)
            now += timedelta(minutes=10)
        [message] = store.outbox.recent()
        assert message.status == "pending" and message.attempts > 8
        assert "ConnectionRefusedError" in message.last_error

    listing = cli_run("alerts")
    assert listing.exit_code == 0, listing.output
    assert f"pending {message.id}: {message.subject} -> newsroom" in listing.output
    assert "last error: channel 'newsroom': SMTP 127.0.0.1" in listing.output
    assert "next try" in listing.output

    with Store(config.database) as store:
        while store.outbox.get(message.id).status == "pending":
            deliver_due(store, config.channels, now=now)
            now += timedelta(minutes=10)
        assert now > T0 + timedelta(days=2)  # the default horizon
        assert store.outbox.counts()["dead"] == 1
    notice = receiver.requests[-1]["json"]
    assert notice["subject"] == "crossings could not deliver an alert through channel newsroom"
    assert f"crossings alerts retry {message.id}" in notice["text"]
    assert "ConnectionRefusedError" in notice["text"]

    listing = cli_run("alerts")
    assert (
        "0 pending" in listing.output
        and "1 dead" in listing.output.split("waiting in the outbox:")[1]
    )
    assert f"dead {message.id}: {message.subject} -> newsroom" in listing.output

    smtp = SmtpServer(port, *tls_files)  # the mail server is back
    smtp.start()
    try:
        resent = cli_run("alerts", "retry", "--dead")
        assert resent.exit_code == 0, resent.output
        assert "sent 1" in resent.output
        [(_, mail)] = smtp.mailbox.received
        assert mail["Subject"].strip() == message.subject
    finally:
        smtp.stop()
    with Store(config.database, read_only=True) as store:
        assert store.outbox.get(message.id).status == "sent"


def test_dead_messages_are_counted_in_metrics(tmp_path, store):
    from jobs.config import parse
    from jobs.web.app import make_app
    from tests.jobs.test_daemon_health import get

    backlog_alert(store, channels=("hook",))
    [message] = store.outbox.recent()
    store.outbox.mark_dead(message.id, error="gone")
    config = parse({"settings": {"database": str(store.path)}}, tmp_path / "crossings.toml")
    status, text = get(make_app(config), "/metrics")
    assert status == 200 and 'crossings_outbox_messages{status="dead"} 1.0' in text


SECRET_PATH = "/services/T0001/B0002/XXXXsecretXXXX"


def test_a_webhook_url_from_the_environment_is_used_and_never_logged_or_stored(
    store, monkeypatch, caplog
):
    server = Receiver("unused")
    server.start()
    try:
        url = server.url.replace("/hook", SECRET_PATH)
        monkeypatch.setenv("CROSSINGS_TEST_HOOK_URL", url)
        channel = Webhook(name="slack", url_env="CROSSINGS_TEST_HOOK_URL", format="slack")
        backlog_alert(store, channels=("slack",))
        server.script = ["500"]
        with caplog.at_level(logging.INFO):
            first = deliver_due(store, {"slack": channel}, now=T0)
            assert first.retrying == 1
            second = deliver_due(store, {"slack": channel}, now=T0 + timedelta(hours=1))
            assert second.sent == 1
        assert len(server.requests) == 2  # it went to the URL the variable holds
    finally:
        server.stop()
    [message] = store.outbox.recent()
    assert "XXXXsecretXXXX" not in (message.last_error or "")
    assert "XXXXsecretXXXX" not in caplog.text
    assert "http://127.0.0.1:" in caplog.text and "/…" in caplog.text  # which host, not which path


def test_a_webhook_url_in_the_config_is_redacted_in_errors_and_the_database(store, caplog):
    port = free_port()  # nothing listens: connection refused
    channel = Webhook(name="discord", url=f"http://127.0.0.1:{port}{SECRET_PATH}?token=abc")
    backlog_alert(store, channels=("discord",))
    with caplog.at_level(logging.INFO):
        report = deliver_due(store, {"discord": channel}, now=T0)
    assert report.retrying == 1
    [message] = store.outbox.recent()
    for text in (message.last_error, caplog.text, report.errors[0]):
        assert "XXXXsecretXXXX" not in text and "token=abc" not in text
    assert f"POST http://127.0.0.1:{port}/…" in message.last_error


def test_url_env_unset_or_both_url_and_url_env_are_clear_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("CROSSINGS_TEST_HOOK_URL", raising=False)
    channel = Webhook(name="slack", url_env="CROSSINGS_TEST_HOOK_URL")
    with pytest.raises(DeliveryError, match="CROSSINGS_TEST_HOOK_URL is not set"):
        channel.send(MESSAGE)
    both = Webhook(name="x", url="https://example.org/", url_env="X")
    assert both.problems() == [
        "give exactly one of `url` or `url_env` (a variable holding the URL)"
    ]
