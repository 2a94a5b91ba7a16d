"""The alert commands as a user types them, on a real config and database."""

import json

import pytest
from click.testing import CliRunner

from alerts.engine import evaluate
from jobs.cli import cli
from jobs.config import load
from storage import Observation, Store
from tests.configs import BACKLOG_RULE

CONFIG = (
    """
[settings]
database = "crossings.db"

[channels.log]
kind = "console"

[channels.newsroom]
kind = "email"
host = "127.0.0.1"
port = 1
username = "me"
password_env = "CROSSINGS_TEST_UNSET_PASSWORD"
sender = "me@example.org"
to = ["desk@example.org"]
"""
    + BACKLOG_RULE.format(channel="log")
    + """
[digests.weekly]
channels = ["log"]
metrics = ["trac.*"]
"""
)


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.delenv("CROSSINGS_TEST_UNSET_PASSWORD", raising=False)
    path = tmp_path / "crossings.toml"
    path.write_text(CONFIG)
    with Store(tmp_path / "crossings.db") as store:
        store.observations.upsert(
            [Observation("trac.court.backlog", f"2025-0{month}-01", 3_400_000 + month * 30_000)
             for month in range(1, 6)],
            snapshot_id=None,
        )  # fmt: skip
        evaluate(store, load(path).rules)
    return path


def run(config, *args):
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def test_alerts_shows_firing_series_events_and_the_outbox(config):
    shown = run(config, "alerts")
    assert shown.exit_code == 0, shown.output
    assert "trac-backlog" in shown.output and "1 firing" in shown.output
    # where the rule stands, in words: what it measures, since when, where it resolves
    assert (
        "trac.court.backlog: value 3,550,000 (2025-05-01): firing since 20" in shown.output
    ) and "; resolves below 3,500,000\n" in shown.output
    assert "firing    TRAC backlog passed 3.5 million: value 3,520,000" in shown.output
    assert "No messages sent; waiting in the outbox: 1 pending, 0 dead" in shown.output
    assert "1 event (1 fired); the 1 most recent:" in shown.output


def test_silence_list_and_unsilence(config):
    silenced = run(config, "alerts", "silence", "trac-*", "--until", "2d", "--comment", "known")
    assert silenced.exit_code == 0, silenced.output
    assert "Silenced trac-* until" in silenced.output
    assert "(silenced)" in run(config, "alerts").output
    listed = run(config, "alerts", "silences")
    assert "trac-*" in listed.output and "known" in listed.output
    assert run(config, "alerts", "unsilence", "1").exit_code == 0
    assert "trac-*" not in run(config, "alerts", "silences").output
    again = run(config, "alerts", "unsilence", "1")
    assert again.exit_code == 1 and "no silence 1" in again.output


def test_silence_refuses_unknown_rules_and_unreadable_times(config):
    unknown = run(config, "alerts", "silence", "nope", "--until", "2d")
    assert unknown.exit_code == 1 and "no rule named 'nope' (known: trac-backlog)" in unknown.output
    bad = run(config, "alerts", "silence", "trac-backlog", "--until", "tomorrow")
    assert bad.exit_code == 2 and "is not a date or time" in bad.output
    past = run(config, "alerts", "silence", "trac-backlog", "--until", "2020-01-01")
    assert past.exit_code == 2 and "is in the past" in past.output


def test_notify_test_says_whether_the_channel_works(config):
    ok = run(config, "notify", "test", "log")
    assert ok.exit_code == 0 and "Sent a test message through log" in ok.output
    broken = run(config, "notify", "test", "newsroom")
    assert broken.exit_code == 1
    assert "CROSSINGS_TEST_UNSET_PASSWORD is not set" in broken.output


def test_digest_preview_writes_one_page_with_its_chart(config, tmp_path):
    page = tmp_path / "weekly.html"
    done = run(config, "digest", "weekly", "--preview", str(page))
    assert done.exit_code == 0, done.output
    html = page.read_text()
    assert "data:image/png;base64," in html and "TRAC backlog passed 3.5 million" in html
    both = run(config, "digest", "weekly")
    assert both.exit_code == 2 and "exactly one of --preview" in both.output
    sent = run(config, "digest", "weekly", "--send")
    assert sent.exit_code == 0 and "Queued 1 message(s); sent 2 due message(s)" in sent.output


def test_events_for_other_programs(config):

    listed = run(config, "alerts", "events", "--since", "1d", "--json")
    assert listed.exit_code == 0, listed.output
    [event] = json.loads(listed.output)
    assert (event["kind"], event["rule"], event["period"]) == (
        "firing",
        "trac-backlog",
        "2025-04-01",
    )
    bad = run(config, "alerts", "events", "--since", "last week")
    assert bad.exit_code == 2 and "is not a date or time" in bad.output
