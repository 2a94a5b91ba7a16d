"""`crossings demo`: the whole product on one machine, offline, in about a minute.

It serves the bundled demo site, starts a mail catcher and a webhook receiver, writes a
config pointing at them, and runs the real daemon (`crossings run`) on it as a child
process. While it runs it prints, in plain words, what the daemon did (read from the
database) and every email and webhook that arrived. Ctrl-C, or `--for SECONDS`, stops
everything and prints a summary with where to look next."""

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template

from alerts.counting import counted, events_counted, messages_counted
from core.checked import free_port
from core.errors import CrossingsError
from core.status import RunCounts
from jobs.config import ENV_PATH, ENV_SETTING_PREFIX, ConfigError, Settings, load
from jobs.demo import DEFAULT_DURATION
from jobs.demo.catcher import LOCALHOST, Mail, MailCatcher, Webhook, WebhookReceiver
from jobs.demo.site import DemoSite, demo_sources_toml
from jobs.invocation import program
from jobs.typed import keys_of
from storage import Run, StorageError, Store

CONFIG_NAME = "crossings.toml"
LOG_NAME = "daemon.log"
MAIL_FOLDER = "mail"
PREVIOUS_FOLDER = "previous"
MARKER = "# Written by `crossings demo`"
DAILY_METRIC = "demo.swb.daily_encounters"  # the illustrative series of jobs/demo/sources.toml
DEFAULT_DAY_SECONDS = 2.5  # the alert fires within about 25 s and resolves within about 40 s
DIGEST_NAME = "demo"  # sent by the demo itself once the alert resolved: the story's end
DIGEST_SCHEDULE = "0 8 * * 1"  # what a real config says; the demo does not wait for it
AFTER_DIGEST_SECONDS = 3.0  # the default run ends this long after the digest arrived
RESOLVED_GRACE_SECONDS = 10.0  # the digest waits for the resolved messages at most this long
DAYS_PER_FETCH = 5  # on a busy machine the story still takes four crawls, not more
SECRET_ENV = "CROSSINGS_DEMO_WEBHOOK_SECRET"  # noqa: S105 (a variable name, not a secret)
POLL_SECONDS = 1.0
STOP_GRACE_SECONDS = 30.0
BODY_LINES_SHOWN = 30

Echo = Callable[[str], None]


class DemoError(CrossingsError):
    """The demo cannot start; the message says why and what to do."""


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


def check_directory(directory: Path) -> None:
    """Refuse a folder whose config the demo did not write: it may be the user's own."""
    path = directory / CONFIG_NAME
    if path.exists() and not path.read_text(encoding="utf-8").startswith(MARKER):
        raise DemoError(
            f"{path} exists and was not written by the crossings demo; "
            "choose another --dir so that your own config is not replaced"
        )


def write_config(directory: Path, endpoints: Endpoints, sources: str) -> Path:
    """The demo's config in DIRECTORY, with the ports of this session."""
    path = directory / CONFIG_NAME
    template = resources.files("jobs.demo").joinpath("config.toml").read_text(encoding="utf-8")
    text = Template(template).substitute(
        config=path,
        listen=endpoints.listen,
        sources=sources,
        smtp_port=endpoints.smtp_port,
        webhook_url=endpoints.webhook,
        secret_env=SECRET_ENV,
        daily_metric=DAILY_METRIC,
        digest_name=DIGEST_NAME,
        digest_schedule=DIGEST_SCHEDULE,
    )
    path.write_text(text, encoding="utf-8")
    return path


def drop_deployment_overrides() -> list[str]:
    """The demo's own config must win: settings meant for a real deployment
    (CROSSINGS_DATABASE, CROSSINGS_LISTEN, CROSSINGS_CONFIG, ...) are removed from this
    process's environment, which the daemon inherits. Returns the names removed."""
    names = [ENV_PATH, *(ENV_SETTING_PREFIX + key.name.upper() for key in keys_of(Settings))]
    return [name for name in names if os.environ.pop(name, None) is not None]


def start_afresh(directory: Path) -> Path | None:
    """A demo run again in its folder starts with a new database and mail numbering: what
    the previous run left (database, daemon log, mails) moves to DIR/previous (replacing
    an older one). Returns that folder, or None when there was nothing to move."""
    left = [
        *sorted(directory.glob("crossings.db*")),
        *(path for name in (LOG_NAME, MAIL_FOLDER) if (path := directory / name).exists()),
    ]
    if not left:
        return None
    previous = directory / PREVIOUS_FOLDER
    shutil.rmtree(previous, ignore_errors=True)
    previous.mkdir()
    for path in left:
        path.rename(previous / path.name)
    return previous


def prepare_database(config_path: Path) -> Path:
    """Check the written config as the daemon will, and create the database up front, so
    that the demo can read it (read-only) from the first second."""
    try:
        config = load(config_path)
    except ConfigError as error:
        raise DemoError(f"the demo's config is not valid (a bug in crossings): {error}") from None
    try:
        Store(config.database).close()
    except StorageError as error:
        raise DemoError(str(error)) from None
    return config.database


class Demo:
    """One demo session in `directory`; `run()` returns the tally once everything stopped."""

    def __init__(
        self,
        directory: Path,
        *,
        duration: float | None = DEFAULT_DURATION,
        until_told: bool = False,
        day_seconds: float | None = None,
        echo: Echo = print,
    ) -> None:
        self.directory = directory
        self.duration = duration or None  # 0: until Ctrl-C
        self.until_told = until_told  # end soon after the digest (within `duration`)
        self.day_seconds = day_seconds or DEFAULT_DAY_SECONDS
        self._echo = echo
        self._output_closed = False
        self.tally = Tally()
        self.secret = secrets.token_hex(16)
        self.started = time.monotonic()
        self._stop = asyncio.Event()
        self._interrupts = 0
        self._last_run_id = 0
        self._daemon: asyncio.subprocess.Process | None = None
        self._store: Store | None = None  # read-only, while the daemon runs
        self._config: Path | None = None
        self._digest: asyncio.Task | None = None  # sending it, once the alert resolved
        self._digest_arrived: float | None = None  # monotonic time its email came
        self._resolved_at: float | None = None  # when the demo saw the alert resolve

    async def run(self) -> Tally:
        check_directory(self.directory)
        if ignored := drop_deployment_overrides():
            self.echo(f"(The demo ignores {', '.join(ignored)}: it uses its own settings.)")
        self.directory.mkdir(parents=True, exist_ok=True)
        if previous := start_afresh(self.directory):
            self.echo(
                f"(Starting afresh: the previous run's database and mails are in {previous}.)"
            )
        (self.directory / MAIL_FOLDER).mkdir(exist_ok=True)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(signum, self._interrupted, signum)
        site = DemoSite(day_seconds=self.day_seconds, days_per_fetch=DAYS_PER_FETCH)
        catcher = MailCatcher(self._show_mail)
        receiver = WebhookReceiver(self.secret, self._show_webhook)
        async with contextlib.AsyncExitStack() as stack:
            site_url = site.start().base_url
            stack.callback(site.stop)
            smtp_port = await catcher.start()
            stack.push_async_callback(catcher.stop)
            webhook_url = await receiver.start()
            stack.push_async_callback(receiver.stop)
            endpoints = Endpoints(
                site_url, smtp_port, webhook_url, f"{LOCALHOST}:{free_port(LOCALHOST)}"
            )
            config = self._config = write_config(
                self.directory, endpoints, demo_sources_toml(site_url)
            )
            database = prepare_database(config)
            self._introduce(endpoints)
            daemon = self._daemon = await self._start_daemon(config)
            try:
                await self._watch(daemon, database)
            finally:
                if self._digest is not None:
                    self._digest.cancel()
                await self._stop_daemon(daemon)
            with Store(database, read_only=True) as store:
                self._show_runs(store)  # what finished while the daemon stopped counts too
                self._summarise(endpoints, config, store)
        return self.tally

    # --- the daemon -------------------------------------------------------------------

    async def _start_daemon(self, config: Path) -> asyncio.subprocess.Process:
        log = (self.directory / LOG_NAME).open("ab")
        try:
            # Its own session: the terminal's Ctrl-C reaches the demo, which stops the
            # daemon once, gracefully, instead of both racing to shut down.
            return await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "jobs",
                "--config",
                str(config),
                "run",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env={**os.environ, SECRET_ENV: self.secret},
                start_new_session=True,
            )
        finally:
            log.close()

    async def _watch(self, daemon: asyncio.subprocess.Process, database: Path) -> None:
        """Report progress until Ctrl-C, the --for deadline, or the daemon ending."""
        store = self._store = Store(database, read_only=True)
        exited = asyncio.ensure_future(daemon.wait())
        try:
            while not self._stop.is_set():
                self._show_runs(store)
                if self._digest is None and self._resolved_and_told(store):
                    self._digest = asyncio.ensure_future(self._send_digest())
                if self.duration is not None and self._elapsed() >= self.duration:
                    self.echo(f"\n{self._clock()} {self.duration:g} seconds are up: stopping.")
                    break
                arrived = self._digest_arrived
                if (
                    self.until_told
                    and arrived
                    and time.monotonic() - arrived >= AFTER_DIGEST_SECONDS
                ):
                    self.echo(f"\n{self._clock()} The story is told: stopping.")
                    break
                stopped = asyncio.ensure_future(self._stop.wait())
                await asyncio.wait({exited, stopped}, timeout=POLL_SECONDS)
                stopped.cancel()
                if exited.done():
                    raise DemoError(self._daemon_died(daemon.returncode))
        finally:
            self._store = None
            store.close()

    def _resolved_and_told(self, store: Store) -> bool:
        """The border alert has resolved and its messages went out (nothing waits in the
        outbox, or a slow channel has had RESOLVED_GRACE_SECONDS): the digest comes next."""
        if self._resolved_at is None:
            if not any(
                event.kind == "resolved" and event.series == DAILY_METRIC
                for event in store.alerts.events(limit=50)
            ):
                return False
            self._resolved_at = time.monotonic()
        waited = time.monotonic() - self._resolved_at >= RESOLVED_GRACE_SECONDS
        return waited or store.outbox.counts()["pending"] == 0

    def _told(self) -> bool:
        """The digest arrived a moment ago: the story is over."""
        arrived = self._digest_arrived
        return arrived is not None and time.monotonic() - arrived >= AFTER_DIGEST_SECONDS

    async def _send_digest(self) -> None:
        """The digest that sums the story up, now rather than at its weekly time: the
        command a user would type."""
        command = f"{program()} --config {self._config} digest {DIGEST_NAME} --send"
        self.echo(f"{self._clock()} The alert has resolved; sending the digest now: {command}")
        sent = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "jobs", "--config", str(self._config),
            "digest", DIGEST_NAME, "--send",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, errors = await sent.communicate()
        if sent.returncode:
            self.echo(f"{self._clock()} The digest was not sent: {errors.decode().strip()}")

    async def _stop_daemon(self, daemon: asyncio.subprocess.Process) -> None:
        if daemon.returncode is not None:
            return
        daemon.send_signal(signal.SIGTERM)
        self.echo(f"{self._clock()} Stopping the daemon (it finishes running crawls first)...")
        try:
            await asyncio.wait_for(daemon.wait(), STOP_GRACE_SECONDS)
        except TimeoutError:
            self.echo(f"{self._clock()} The daemon did not stop in time: ending it.")
            daemon.kill()
            await daemon.wait()

    def _daemon_died(self, status: int | None) -> str:
        log = self.directory / LOG_NAME
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        shown = "\n".join(f"    {line}" for line in tail)
        return f"the daemon stopped by itself (exit status {status}); the end of {log}:\n{shown}"

    def _interrupted(self, signum: int) -> None:
        self._interrupts += 1
        if self._interrupts == 1:
            cause = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
            self.echo(f"\n{self._clock()} {cause}: stopping everything (press again to hurry).")
        elif self._daemon is not None and self._daemon.returncode is None:
            # The daemon's answer to a second SIGTERM: stop now, running crawls cut off
            # (marked interrupted, caught up at its next start).
            self._daemon.send_signal(signal.SIGTERM)
        self._stop.set()

    # --- what the user sees ------------------------------------------------------------

    def echo(self, line: str) -> None:
        """Print for the user. When nobody reads any more (`| head`, a closed terminal),
        stop everything cleanly rather than die and leave the daemon running."""
        if self._output_closed:
            return
        try:
            self._echo(line)
        except OSError:
            self._output_closed = True
            self._stop.set()

    def _introduce(self, endpoints: Endpoints) -> None:
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
                f"day of border figures appears every {self.day_seconds:g} seconds; when their "
                "7-day average passes 4,000, an alert goes out by email and webhook; the site "
                "then revises one day's figure (a revision notice follows); when the average "
                "falls below 3,000 again, a resolved notice follows; a digest sums it up.",
                width=88,
            ),
            f"  Watch the chart   {endpoints.dashboard}series/{DAILY_METRIC}",
            "Press Ctrl-C to stop."
            if self.duration is None
            else f"Stops after {self.duration:g} seconds (Ctrl-C stops sooner).",
            "",
        ]
        for line in lines:
            self.echo(line)

    def _show_runs(self, store: Store) -> None:
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
                self.echo(f"{self._clock()} {describe_run(run)}")
        if unchanged:  # the common case once everything was fetched: one line, not ten
            self.echo(
                f"{self._clock()} Checked again, not changed since last time: "
                f"{', '.join(unchanged)}."
            )

    def _show_runs_so_far(self) -> None:
        """Tell the run that caused an alert before the alert itself."""
        if self._store is not None:
            self._show_runs(self._store)

    def _show_mail(self, mail: Mail) -> None:
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
            self._digest_arrived = time.monotonic()
        self.echo("")
        self.echo(f"{self._clock()} EMAIL received by the mail catcher{html_note}")
        self.echo(f"    To:      {', '.join(mail.recipients)}")
        self.echo(f"    Subject: {mail.subject}")
        body = mail.text.strip().splitlines()
        for line in body[:BODY_LINES_SHOWN]:
            self.echo(f"    | {line}")
        if len(body) > BODY_LINES_SHOWN:
            self.echo(f"    | ... ({len(body) - BODY_LINES_SHOWN} more lines in {saved})")
        self.echo("")

    def _show_webhook(self, webhook: Webhook) -> None:
        self._show_runs_so_far()
        self.tally.webhooks += 1
        if webhook.signed is False:
            self.tally.bad_signatures += 1
        signature = {
            True: "signature valid",
            False: "SIGNATURE INVALID",
            None: "not signed",
        }[webhook.signed]
        self.echo(f"{self._clock()} WEBHOOK received ({signature}): {describe_payload(webhook)}")

    def _summarise(self, endpoints: Endpoints, config: Path, store: Store) -> None:
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

    def _elapsed(self) -> float:
        return time.monotonic() - self.started

    def _clock(self) -> str:
        seconds = int(self._elapsed())
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
