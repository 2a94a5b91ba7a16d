"""`crossings demo`, as a newcomer runs it: the real daemon on the bundled demo site, with
the alert arriving at the demo's own SMTP catcher and webhook receiver; Ctrl-C ends
everything cleanly; what it stored can be explored afterwards."""

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alerts.channels.email import Email
from alerts.channels.webhook import Webhook
from alerts.message import Message
from jobs.demo.catcher import MailCatcher, WebhookReceiver

DAILY_METRIC = "demo.swb.daily_encounters"


def crossings(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs", *args],
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )


def test_the_catchers_show_real_deliveries_and_check_signatures(monkeypatch):
    mails, hooks = [], []
    message = Message(
        subject="Border encounters: 7-day mean above 4,000",
        text="The 7-day mean is 4,528.",
        html='<p>The 7-day mean is <b>4,528</b>.</p><img src="cid:chart-1@crossings">',
        data={"rule": "border-week-high"},
        idempotency_key="demo-1",
        images={"chart-1@crossings": b"\x89PNG\r\n\x1a\n a chart"},
    )

    async def deliver():
        catcher, receiver = MailCatcher(mails.append), WebhookReceiver("s3cret", hooks.append)
        port, url = await catcher.start(), await receiver.start()
        email = Email(name="mail", host="127.0.0.1", port=port, security="none",
                      sender="crossings <c@localhost>", to=("you@example.org",))  # fmt: skip
        monkeypatch.setenv("DEMO_TEST_SECRET", "s3cret")
        signed = Webhook(name="hook", url=url, secret_env="DEMO_TEST_SECRET")
        monkeypatch.setenv("DEMO_TEST_WRONG", "guess")
        forged = Webhook(name="forged", url=url, secret_env="DEMO_TEST_WRONG")
        unsigned = Webhook(name="plain", url=url)
        try:
            for channel in (email, signed, forged, unsigned):
                await asyncio.to_thread(channel.send, message)
        finally:
            await catcher.stop()
            await receiver.stop()

    asyncio.run(deliver())
    [mail] = mails
    assert mail.recipients == ("you@example.org",)
    assert mail.subject == message.subject
    assert "4,528" in mail.text and "<b>4,528</b>" in mail.html
    page = mail.html_page()  # what the demo saves for a browser: the chart inline
    assert "cid:" not in page and '<img src="data:image/png;base64,iVBORw0KGgo' in page
    assert [hook.signed for hook in hooks] == [True, False, None]
    assert hooks[0].payload["subject"] == message.subject


@pytest.mark.slow
def test_the_default_run_tells_the_whole_story_with_the_same_numbers_everywhere(tmp_path):
    """A newcomer's `crossings demo`, defaults only: the 7-day mean crosses 4,000 (email and
    webhook), a published figure is revised (a notice), the mean falls below 3,000 (a
    resolved email), a digest arrives; the summary counts every run the database holds; the
    terminal, the web page and the email show the same numbers."""
    folder = tmp_path / "demo"
    result = crossings("demo", "--dir", str(folder), timeout=240)
    shown = result.stdout + result.stderr
    assert result.returncode == 0, shown
    assert "Traceback" not in shown
    fired, resolved = "7-day mean 4,528.57 is above 4,000", "7-day mean 2,905 is below 3,000"
    emails = shown.split("EMAIL received by the mail catcher")[1:]
    assert any(fired in mail for mail in emails), shown
    assert any("revised from 4,692 to 5,092" in mail for mail in emails), shown
    assert any(resolved in mail and "[resolved]" in mail for mail in emails), shown
    assert any("Subject: crossings demo digest" in mail for mail in emails), shown
    assert "WEBHOOK received (signature valid)" in shown and "SIGNATURE INVALID" not in shown

    summary = result.stdout.split("\nSummary\n", 1)[1]
    runs = int(re.search(r"Runs:\s+(\d+)", summary)[1])
    new, revised = map(int, re.search(r"(\d+) new, (\d+) revised", summary).groups())
    with sqlite3.connect(folder / "crossings.db") as db:
        assert runs == db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        assert new + revised == db.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
    assert revised >= 1
    story = summary.split("What happened to", 1)[1]
    assert story.index(fired) < story.index("revised from 4,692 to 5,092") < story.index(resolved)

    config = str(folder / "crossings.toml")
    series = crossings("--config", config, "series", DAILY_METRIC, "--rule", "border-week-high")
    assert series.returncode == 0, series.stderr
    assert re.search(r"2024-06-02\s+4,900\s+4,528.57\s+firing", series.stdout), series.stdout
    assert re.search(r"2024-06-15\s+1,812\s+2,905\s", series.stdout), series.stdout
    alerts = crossings("--config", config, "alerts")
    assert "demo.swb.daily_encounters: 7-day mean" in alerts.stdout
    # every count says what it counts, in the same words on every screen
    events = re.search(r"Alert events:\s+(\d+ events \([^)]*\))", summary)[1]
    messages = re.search(r"Messages:\s+(\d+ messages sent \([^)]*\))", summary)[1]
    assert f"\n{events[0].upper()}{events[1:]}; the " in alerts.stdout, alerts.stdout
    assert f"\n{messages}; waiting in the outbox: 0 pending, 0 dead" in alerts.stdout
    digest = next(mail for mail in emails if "Subject: crossings demo digest" in mail)
    assert f"| {events}" in digest, digest
    assert "resolved since" in alerts.stdout and "fires above 4,000" in alerts.stdout
    page = (folder / "mail" / "001.html").read_text()  # the first email's HTML, chart inline
    assert "4,528.57" in page and "data:image/png;base64," in page
    assert_the_story_comes_first_and_ends_the_run(result.stdout)

    again = crossings("demo", "--dir", str(folder), timeout=240)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith(f"(Starting afresh: the previous run's database and mails are "
                                   f"in {folder / 'previous'}.)")  # fmt: skip
    assert_the_story_comes_first_and_ends_the_run(again.stdout)
    assert (folder / "previous" / "mail" / "001.eml").read_bytes() != (
        folder / "mail" / "001.eml"
    ).read_bytes()  # numbered afresh, the first run's mails kept
    summary = again.stdout.split("\nSummary\n", 1)[1]
    with sqlite3.connect(folder / "crossings.db") as db:
        runs = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    assert int(re.search(r"Runs:\s+(\d+)", summary)[1]) == runs  # a new database


def assert_the_story_comes_first_and_ends_the_run(shown: str) -> None:
    """The first message is the border alert's; the digest comes after the resolved notice,
    and the run stops soon after it instead of fetching on until its time is up."""
    end = shown[-6000:]  # what pytest shows when an assertion fails
    first = re.split(r"(?:EMAIL|WEBHOOK) received", shown)[1]  # up to the next message
    assert "Border encounters: 7-day mean above 4,000" in first, end
    assert (
        "7-day mean 2,905 is below 3,000" in shown and "Subject: crossings demo digest" in shown
    ), end
    resolved = shown.index("7-day mean 2,905 is below 3,000")
    assert resolved < shown.index("Subject: crossings demo digest"), end
    assert "The story is told: stopping." in shown and "seconds are up" not in shown, end
    assert "[00:00] Fetched" not in shown


def processes_mentioning(text: str) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_ctrl_c_stops_the_demo_and_its_daemon_without_a_traceback(tmp_path):
    folder = tmp_path / "demo"
    elsewhere = tmp_path / "production.db"  # a deployment's setting must not leak in
    env = {**os.environ, "CROSSINGS_DATABASE": str(elsewhere)}
    demo = subprocess.Popen(
        [sys.executable, "-m", "jobs", "demo", "--dir", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines = []
    try:
        for line in demo.stdout:
            lines.append(line)
            if line.strip().endswith(".") and "Fetched" in line:
                break
        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
    shown = "".join(lines) + rest
    assert demo.returncode == 0, shown
    assert "Traceback" not in shown
    assert "Ctrl-C: stopping everything" in shown
    assert "\nSummary\n" in shown
    assert "The demo ignores CROSSINGS_DATABASE" in shown
    assert (folder / "crossings.db").exists() and not elsewhere.exists()
    deadline = time.monotonic() + 10
    while processes_mentioning(str(folder / "crossings.toml")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_mentioning(str(folder / "crossings.toml")) == []


def test_demo_will_not_replace_a_config_it_did_not_write(tmp_path):
    mine = tmp_path / "crossings.toml"
    mine.write_text("# my own config\n[settings]\n")
    result = crossings("demo", "--dir", str(tmp_path), "--for", "5")
    assert result.returncode == 1
    assert "was not written by the crossings demo" in result.stderr
    assert mine.read_text() == "# my own config\n[settings]\n"


def test_a_demo_whose_output_is_closed_stops_its_daemon_too(tmp_path):
    folder = tmp_path / "demo"
    demo = subprocess.Popen(
        [sys.executable, "-m", "jobs", "demo", "--dir", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        for line in demo.stdout:
            if "Fetched" in line:
                break
        demo.stdout.close()  # as `crossings demo | head` does
        demo.wait(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
    deadline = time.monotonic() + 10
    while processes_mentioning(str(folder / "crossings.toml")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_mentioning(str(folder / "crossings.toml")) == []
