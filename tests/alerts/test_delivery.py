"""Delivery through real servers: an alert is sent once, retried when the receiver is
down or failing, given up (dead) only after its retry time, and safe from scraped text."""

from datetime import UTC, datetime, timedelta

import pytest

from alerts.channels.email import Email
from alerts.channels.webhook import Webhook
from alerts.delivery import backoff, deliver_due
from alerts.engine import evaluate
from alerts.rules.news import NewsMatch
from alerts.rules.threshold import Threshold
from core.checked import free_port
from storage import MetricEntry, NewsItem, Observation, SourceEntry
from tests.alerts.servers import USER, SmtpServer

T0 = datetime(2030, 1, 1, tzinfo=UTC)  # later than anything stored, so messages are due


def email_channel(smtp, **overrides) -> Email:
    keys = {
        "name": "newsroom",
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": "starttls",
        "username": USER,
        "password_env": "CROSSINGS_TEST_SMTP_PASSWORD",
        "sender": "crossings <alerts@example.org>",
        "to": ("desk@example.org",),
        "timeout": 5.0,
        "ca_file": smtp.cert,
    }
    return Email(**{**keys, **overrides})


def hook_channel(receiver, **overrides) -> Webhook:
    keys = {
        "name": "hook",
        "url": receiver.url,
        "secret_env": "CROSSINGS_TEST_HOOK_SECRET",
        "timeout": 0.5,
    }
    return Webhook(**{**keys, **overrides})


def backlog_alert(store, channels=("newsroom",)) -> None:
    """Store a figure past a threshold, with its provenance, and evaluate: one event."""
    store.catalog.sync_sources(
        [SourceEntry("trac-backlog", "table", "https://tracreports.org/", "TRAC backlog")]
    )
    store.catalog.describe_metrics([MetricEntry("trac.backlog", "Immigration court backlog")])
    snapshot = store.snapshots.record(
        source="trac-backlog", url="https://tracreports.org/backlog/", http_status=200, body=b"x"
    )
    store.observations.upsert([Observation("trac.backlog", "FY2023", 3_400_000)], snapshot_id=None)
    store.observations.upsert(
        [Observation("trac.backlog", "FY2024", 3_596_229)], snapshot_id=snapshot.id
    )
    rule = Threshold(name="backlog", description="TRAC backlog passed 3.5 million",
                     metric="trac.backlog", above=3_500_000, channels=channels)  # fmt: skip
    [event] = evaluate(store, {"backlog": rule})
    assert event.kind == "firing"


def test_an_alert_email_says_what_crossed_what_and_arrives_once(store, smtp):
    backlog_alert(store)
    channels = {"newsroom": email_channel(smtp)}
    report = deliver_due(store, channels, now=T0)
    assert (report.sent, report.errors) == (1, [])
    assert deliver_due(store, channels, now=T0 + timedelta(days=1)).sent == 0
    [(recipients, mail)] = smtp.mailbox.received
    assert recipients == ["desk@example.org"]
    subject = mail["Subject"].strip()
    assert subject.startswith("TRAC backlog passed 3.5 million: value 3,596,229 is above")
    assert mail["Message-ID"].endswith("@crossings>")
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for shown in (
        "Immigration court backlog",
        "3,596,229",
        "3,500,000",
        "FY2024",
        "3,400,000",
        "TRAC backlog",
        "https://tracreports.org/backlog/",
        "snapshot 1",
    ):
        assert shown in text, shown
        assert shown in html, shown


def test_smtp_down_then_up_delivers_exactly_once(store, smtp):
    backlog_alert(store)
    channels = {"newsroom": email_channel(smtp)}
    smtp.stop()
    report = deliver_due(store, channels, now=T0)
    assert report.retrying == 1 and "Connection refused" in report.errors[0]
    [row] = store.outbox.recent()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "127.0.0.1" in row.last_error
    # Not due again before its backoff.
    assert deliver_due(store, channels, now=T0 + timedelta(seconds=5)).sent == 0
    smtp.start()
    assert deliver_due(store, channels, now=T0 + backoff(1)).sent == 1
    assert deliver_due(store, channels, now=T0 + timedelta(days=1)).sent == 0
    assert len(smtp.mailbox.received) == 1
    assert store.outbox.recent()[0].status == "sent"


def test_a_refused_login_and_a_missing_password_variable_are_clear_errors(store, smtp, monkeypatch):
    backlog_alert(store)
    monkeypatch.setenv("WRONG_PASSWORD", "nope")
    report = deliver_due(store, {"newsroom": email_channel(smtp, password_env="WRONG_PASSWORD")},
                         now=T0)  # fmt: skip
    assert "login as 'newsroom' refused" in report.errors[0]
    report = deliver_due(
        store, {"newsroom": email_channel(smtp, password_env="UNSET_VARIABLE")}, now=T0 + backoff(1)
    )
    assert "environment variable UNSET_VARIABLE is not set" in report.errors[0]
    assert smtp.mailbox.received == []


def test_scraped_text_cannot_inject_headers_nor_script(store, smtp):
    store.catalog.sync_sources([SourceEntry("dhs", "feed", "https://www.dhs.gov/", "DHS news")])
    rule = NewsMatch(name="asylum", keywords=("asylum",), channels=("newsroom",))
    evaluate(store, {"asylum": rule})
    title = "Asylum rule\r\nBcc: victim@example.org\r\n<script>alert(1)</script>"
    store.news.add(
        [NewsItem("dhs", "g1", title, url="https://www.dhs.gov/n/1", summary="<b>asylum</b>")],
        snapshot_id=None,
    )
    assert len(evaluate(store, {"asylum": rule})) == 1
    assert deliver_due(store, {"newsroom": email_channel(smtp)}, now=T0).sent == 1
    [(recipients, mail)] = smtp.mailbox.received
    assert recipients == ["desk@example.org"]
    assert mail["Bcc"] is None
    assert "\n" not in mail["Subject"] and "Bcc: victim" in mail["Subject"]
    html = mail.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;asylum&lt;/b&gt;" in html


def test_webhook_is_signed_and_retried_after_three_500s(store, receiver):
    backlog_alert(store, channels=("hook",))
    receiver.script = ["500", "500", "500"]
    channels = {"hook": hook_channel(receiver)}
    now = T0
    for attempt in (1, 2, 3):
        report = deliver_due(store, channels, now=now)
        assert report.retrying == 1 and "answered HTTP 500" in report.errors[0]
        now += backoff(attempt)
    assert deliver_due(store, channels, now=now).sent == 1
    assert deliver_due(store, channels, now=now + timedelta(days=1)).sent == 0
    assert [r["action"] for r in receiver.requests] == ["500", "500", "500", "200"]
    assert all(r["signed"] for r in receiver.requests)
    keys = {r["headers"]["Idempotency-Key"] for r in receiver.requests}
    assert len(keys) == 1  # the same message each time: receivers can deduplicate
    data = receiver.requests[-1]["json"]["data"]
    assert (data["value"], data["threshold"], data["period"]) == (3_596_229, 3_500_000, "FY2024")
    assert data["snapshot"]["url"] == "https://tracreports.org/backlog/"


def test_a_hanging_receiver_times_out_and_is_retried(store, receiver):
    backlog_alert(store, channels=("hook",))
    receiver.script = ["hang"]
    channels = {"hook": hook_channel(receiver)}
    report = deliver_due(store, channels, now=T0)
    assert report.retrying == 1 and "no complete answer within 0.5 s" in report.errors[0]
    assert deliver_due(store, channels, now=T0 + backoff(1)).sent == 1


def test_after_its_retry_time_a_message_is_dead_and_counted(store, receiver):
    backlog_alert(store, channels=("hook",))
    receiver.script = ["500"] * 100
    channels = {"hook": hook_channel(receiver)}
    now = T0
    while store.outbox.counts()["pending"]:
        report = deliver_due(store, channels, now=now, retry_for=timedelta(hours=1))
        now += timedelta(minutes=5)
    assert report.dead == 1 and now > T0 + timedelta(hours=1)
    assert store.outbox.counts() == {"pending": 0, "sent": 0, "dead": 1}
    assert deliver_due(store, channels, now=now + timedelta(days=30)).sent == 0


def test_slack_and_discord_shapes_cannot_ping_everyone(store, receiver):
    rule = NewsMatch(name="asylum", keywords=("asylum",), channels=("slack", "discord"))
    evaluate(store, {"asylum": rule})
    store.news.add([NewsItem("dhs", "g", "Asylum <!channel> @everyone")], snapshot_id=None)
    evaluate(store, {"asylum": rule})
    channels = {
        "slack": hook_channel(receiver, name="slack", format="slack"),
        "discord": hook_channel(receiver, name="discord", format="discord"),
    }
    assert deliver_due(store, channels, now=T0).sent == 2
    bodies = {r["headers"]["Idempotency-Key"]: r["json"] for r in receiver.requests}
    slack = next(b for b in bodies.values() if "text" in b)
    discord = next(b for b in bodies.values() if "content" in b)
    assert slack["text"].startswith("*[notice] asylum:") and "&lt;!channel&gt;" in slack["text"]
    assert "<!channel>" not in slack["text"]
    assert discord["allowed_mentions"] == {"parse": []}


def test_a_message_for_a_channel_no_longer_configured_is_kept_and_explained(store):
    backlog_alert(store)
    report = deliver_due(store, {}, now=T0)
    assert "channel 'newsroom' is not in the config" in report.errors[0]
    assert store.outbox.counts()["pending"] == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # SMTPS is TLS
def test_email_over_implicit_ssl(store, tls_files, monkeypatch):
    monkeypatch.setenv("CROSSINGS_TEST_SMTP_PASSWORD", "correct horse")
    server = SmtpServer(free_port(), *tls_files, implicit_tls=True)
    server.start()
    try:
        backlog_alert(store)
        channel = email_channel(server, security="ssl")
        assert deliver_due(store, {"newsroom": channel}, now=T0).sent == 1
        assert len(server.mailbox.received) == 1
    finally:
        server.stop()


def test_a_users_template_overrides_the_packaged_one(store, receiver, tmp_path):
    backlog_alert(store, channels=("hook",))
    (tmp_path / "alert.txt").write_text(
        "{{ event.metric_label }} is now {{ event.value | number }}"
    )
    deliver_due(store, {"hook": hook_channel(receiver)}, templates=tmp_path, now=T0)
    assert receiver.requests[0]["json"]["text"] == "Immigration court backlog is now 3,596,229"


def test_apprise_without_the_extra_is_a_clear_error(store, monkeypatch):
    import importlib.util

    from alerts.channels.apprise import Apprise

    if importlib.util.find_spec("apprise") is not None:
        pytest.skip("apprise is installed here")
    monkeypatch.setenv("CROSSINGS_TEST_APPRISE", "json://127.0.0.1:1/")
    backlog_alert(store, channels=("more",))
    channel = Apprise(name="more", urls_env="CROSSINGS_TEST_APPRISE")
    report = deliver_due(store, {"more": channel}, now=T0)
    assert "pip install 'crossings[apprise]'" in report.errors[0]
