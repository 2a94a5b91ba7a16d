"""What the demo tells the user as it goes: the set-up, each finished run, each email and
webhook as it arrives, and the summary with what to try next. `Demo` (run.py) runs the
servers and the daemon; this says what happened."""

import textwrap
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from alerts.counting import counted, events_counted, messages_counted
from core.status import RunCounts
from jobs.demo.catcher import LOCALHOST, Mail, Webhook
from jobs.invocation import program
from jobs.settings import ENV_PATH
from storage import Run, Store

MAIL_FOLDER = "mail"
DAILY_METRIC = "demo.swb.daily_encounters"  # the illustrative series of jobs/demo/sources.toml
BODY_LINES_SHOWN = 30

Echo = Callable[[str], None]


@dataclass(kw_only=True)
class Tally(RunCounts):
    """What the summary reports: the runs' counters added up, runs by outcome, mail."""

    runs: Counter = field(default_factory=Counter)
    mails: int = 0
    webhooks: int = 0
    bad_signatures: int = 0


@dataclass(frozen=True)
class Endpoints:
    site: str
    smtp_port: int
    webhook: str
    listen: str

    @property
    def dashboard(self) -> str:
        return f"http://{self.listen}/"


class Story:
    """The demo's output, and what it counted on the way (`tally`)."""

    def __init__(self, directory: Path, *, echo: Echo, on_closed: Callable[[], None]) -> None:
        self.directory = directory
        self.tally = Tally()
        self.started = time.monotonic()
        self.store: Store | None = None  # read-only, while the daemon runs
        self.digest_arrived: float | None = None  # monotonic time its email came
        self._echo = echo
        self._on_closed = on_closed  # nobody reads the output any more
        self._output_closed = False
        self._last_run_id = 0

    def echo(self, line: str) -> None:
        """Print for the user. When nobody reads any more (`| head`, a closed terminal),
        stop everything cleanly rather than die and leave the daemon running."""
        if self._output_closed:
            return
        try:
            self._echo(line)
        except OSError:
            self._output_closed = True
            self._on_closed()

    def introduce(
        self, endpoints: Endpoints, *, duration: float | None, day_seconds: float
    ) -> None:
        lines = [
            "crossings demo: everything runs on this computer; nothing goes to the internet.",
            "The figures are illustrative, not real statistics.",
            "",
            f"  Demo website      {endpoints.site}",
            f"  Mail catcher      {LOCALHOST}:{endpoints.smtp_port} (emails are shown below)",
            f"  Webhook receiver  {endpoints.webhook}",
            f"  Dashboard         {endpoints.dashboard}",
            f"  Demo folder       {self.directory} (config, database, daemon log)",
            "",
            *textwrap.wrap(
                "The daemon now fetches the demo pages every few seconds. A new illustrative "
                f"day of border figures appears every {day_seconds:g} seconds; when their "
                "7-day average passes 4,000, an alert goes out by email and webhook; the site "
                "then revises one day's figure (a revision notice follows); when the average "
                "falls below 3,000 again, a resolved notice follows; a digest sums it up.",
                width=88,
            ),
            f"  Watch the chart   {endpoints.dashboard}series/{DAILY_METRIC}",
            "Press Ctrl-C to stop."
            if duration is None
            else f"Stops after {duration:g} seconds (Ctrl-C stops sooner).",
            "",
        ]
        for line in lines:
            self.echo(line)

    def show_runs(self, store: Store) -> None:
        """Tell each run that finished since the last look, once."""
        recent = store.runs.recent(limit=200)
        finished = sorted(
            (run for run in recent if run.id > self._last_run_id and run.status != "running"),
            key=lambda run: run.id,
        )
        unchanged = []
        for run in finished:
            # An unfinished older run holds the line back, so every run is told once.
            if any(r.status == "running" and r.id < run.id for r in recent):
                break
            self._last_run_id = run.id
            self.tally.runs[run.status] += 1
            self.tally.values_new += run.values_new or 0
            self.tally.values_revised += run.values_revised or 0
            self.tally.news_new += run.news_new or 0
            if run.status == "unchanged":
                unchanged.append(run.source)
            else:
                self.echo(f"{self.clock()} {describe_run(run)}")
        if unchanged:  # the common case once everything was fetched: one line, not ten
            self.echo(
                f"{self.clock()} Checked again, not changed since last time: "
                f"{', '.join(unchanged)}."
            )

    def _show_runs_so_far(self) -> None:
        """Tell the run that caused an alert before the alert itself."""
        if self.store is not None:
            self.show_runs(self.store)

    def show_mail(self, mail: Mail) -> None:
        self._show_runs_so_far()
        self.tally.mails += 1
        number = self.tally.mails
        saved = self.directory / MAIL_FOLDER / f"{number:03d}.eml"
        saved.write_bytes(bytes(mail.message))
        html_note = ""
        if mail.html:
            page = saved.with_suffix(".html")
            page.write_text(mail.html_page(), encoding="utf-8")
            html_note = f" (the HTML version, with its chart: {page})"
        if "digest" in mail.subject:
            self.digest_arrived = time.monotonic()
        self.echo("")
        self.echo(f"{self.clock()} EMAIL received by the mail catcher{html_note}")
        self.echo(f"    To:      {', '.join(mail.recipients)}")
        self.echo(f"    Subject: {mail.subject}")
        body = mail.text.strip().splitlines()
        for line in body[:BODY_LINES_SHOWN]:
            self.echo(f"    | {line}")
        if len(body) > BODY_LINES_SHOWN:
            self.echo(f"    | ... ({len(body) - BODY_LINES_SHOWN} more lines in {saved})")
        self.echo("")

    def show_webhook(self, webhook: Webhook) -> None:
        self._show_runs_so_far()
        self.tally.webhooks += 1
        if webhook.signed is False:
            self.tally.bad_signatures += 1
        signature = {
            True: "signature valid",
            False: "SIGNATURE INVALID",
            None: "not signed",
        }[webhook.signed]
        self.echo(f"{self.clock()} WEBHOOK received ({signature}): {describe_payload(webhook)}")

    def summarise(self, endpoints: Endpoints, config: Path, store: Store) -> None:
        tally = self.tally
        runs = sum(tally.runs.values())
        statuses = ", ".join(f"{count} {status}" for status, count in tally.runs.most_common())
        self.echo("")
        self.echo("Summary")
        self.echo(f"  Runs:              {runs}" + (f" ({statuses})" if statuses else ""))
        self.echo(
            f"  Values stored:     {tally.values_new} new, {tally.values_revised} revised"
            f"; {tally.news_new} news items"
        )
        self.echo(f"  Alert events:      {events_counted(store.alerts.event_kinds())}")
        self.echo(
            f"  Messages:          {messages_counted(store.outbox.sent_by_channel())}; "
            f"received here: {counted(tally.mails, 'email')}, {counted(tally.webhooks, 'webhook')}"
            + (f", {tally.bad_signatures} with a bad signature" if tally.bad_signatures else "")
        )
        story = sorted(
            (e for e in store.alerts.events(limit=200) if e.series == DAILY_METRIC),
            key=lambda e: (e.period or "", e.id),
        )  # in the order of the days they are about
        if story:
            self.echo(f"  What happened to {DAILY_METRIC}:")
            for event in story:
                self.echo(f"    {event.kind:<9} {event.period or '':<11} {event.summary}")
        crossings = program()
        self.echo("")
        self.echo(f"Everything is kept in {self.directory}. To look around:")
        self.echo(f"  export {ENV_PATH}={config}")
        for command, why in (
            ("alerts", "each rule: what it measures now, what fired, what was sent"),
            (f"series {DAILY_METRIC} --rule border-week-high", "each day with its 7-day mean"),
            (f"revisions --metric {DAILY_METRIC}", "the revised figure: old and new value"),
            ("metrics", "every series it stored"),
            ("runs", "every fetch and how it ended"),
            ("serve", f"the web pages: {endpoints.dashboard}series/{DAILY_METRIC}"),
        ):
            self.echo(f"  {crossings} {command}")
            self.echo(f"      # {why}")
        self.echo(f"(or write `{crossings} --config {config} ...` each time)")
        self.echo(f"Run the demo again on the same folder: {crossings} demo --dir {self.directory}")

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def clock(self) -> str:
        """The time since the demo started, as each line begins: [01:05]."""
        seconds = int(self.elapsed())
        return f"[{seconds // 60:02d}:{seconds % 60:02d}]"


def describe_run(run: Run) -> str:
    """One finished run in words: 'Fetched border-daily: 3 new values, 40 unchanged.'"""
    source, status = run.source, run.status
    if status == "ok":
        parts = [
            f"{getattr(run, key)} {words}"
            for key, words in (
                ("values_new", "new values"),
                ("values_revised", "revised"),
                ("values_unchanged", "unchanged"),
                ("news_new", "new news items"),
            )
            if getattr(run, key)
        ]
        return f"Fetched {source}: {', '.join(parts) or 'nothing new'}."
    if status == "unchanged":
        return f"Checked {source} again: not changed since last time."
    reason = run.reason or "no reason recorded"
    return f"Fetching {source} ended {status.upper()}: {reason}"


def describe_payload(webhook: Webhook) -> str:
    """The gist of a webhook's JSON (its summary or title), else its size."""
    payload = webhook.payload
    if isinstance(payload, dict):
        for key in ("subject", "summary", "title", "text", "content"):
            if isinstance(payload.get(key), str):
                return textwrap.shorten(payload[key], 160)
    return f"{len(webhook.body)} bytes of {'JSON' if payload is not None else 'data'}"
