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
import time
from importlib import resources
from pathlib import Path
from string import Template

from core.checked import free_port
from core.errors import CrossingsError
from jobs.config import ENV_PATH, ENV_SETTING_PREFIX, ConfigError, Settings, load
from jobs.demo import DEFAULT_DURATION
from jobs.demo.catcher import LOCALHOST, MailCatcher, WebhookReceiver
from jobs.demo.site import DemoSite, demo_sources_toml
from jobs.demo.story import DAILY_METRIC, MAIL_FOLDER, Echo, Endpoints, Story, Tally
from jobs.invocation import program
from jobs.typed import keys_of
from storage import StorageError, Store

CONFIG_NAME = "crossings.toml"
LOG_NAME = "daemon.log"
PREVIOUS_FOLDER = "previous"
MARKER = "# Written by `crossings demo`"
DEFAULT_DAY_SECONDS = 2.5  # the alert fires within about 25 s and resolves within about 40 s
DIGEST_NAME = "demo"  # sent by the demo itself once the alert resolved: the story's end
DIGEST_SCHEDULE = "0 8 * * 1"  # what a real config says; the demo does not wait for it
AFTER_DIGEST_SECONDS = 3.0  # the default run ends this long after the digest arrived
RESOLVED_GRACE_SECONDS = 30.0  # the digest waits for the resolved messages at most this long
DAYS_PER_FETCH = 5  # on a busy machine the story still takes four crawls, not more
SECRET_ENV = "CROSSINGS_DEMO_WEBHOOK_SECRET"  # noqa: S105 (a variable name, not a secret)
POLL_SECONDS = 1.0
STOP_GRACE_SECONDS = 30.0


class DemoError(CrossingsError):
    """The demo cannot start; the message says why and what to do."""


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
        self.secret = secrets.token_hex(16)
        self._stop = asyncio.Event()
        self.story = Story(directory, echo=echo, on_closed=self._stop.set)
        self._interrupts = 0
        self._daemon: asyncio.subprocess.Process | None = None
        self._config: Path | None = None
        self._digest: asyncio.Task | None = None  # sending it, once the alert resolved
        self._resolved_at: float | None = None  # when the demo saw the alert resolve

    async def run(self) -> Tally:
        check_directory(self.directory)
        if ignored := drop_deployment_overrides():
            self.story.echo(f"(The demo ignores {', '.join(ignored)}: it uses its own settings.)")
        self.directory.mkdir(parents=True, exist_ok=True)
        if previous := start_afresh(self.directory):
            self.story.echo(
                f"(Starting afresh: the previous run's database and mails are in {previous}.)"
            )
        (self.directory / MAIL_FOLDER).mkdir(exist_ok=True)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(signum, self._interrupted, signum)
        site = DemoSite(day_seconds=self.day_seconds, days_per_fetch=DAYS_PER_FETCH)
        catcher = MailCatcher(self.story.show_mail)
        receiver = WebhookReceiver(self.secret, self.story.show_webhook)
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
            self.story.introduce(endpoints, duration=self.duration, day_seconds=self.day_seconds)
            daemon = self._daemon = await self._start_daemon(config)
            try:
                await self._watch(daemon, database)
            finally:
                if self._digest is not None:
                    self._digest.cancel()
                await self._stop_daemon(daemon)
            with Store(database, read_only=True) as store:
                self.story.show_runs(store)  # what finished while the daemon stopped counts too
                self.story.summarise(endpoints, config, store)
        return self.story.tally

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
        store = self.story.store = Store(database, read_only=True)
        exited = asyncio.ensure_future(daemon.wait())
        try:
            while not self._stop.is_set():
                self.story.show_runs(store)
                if self._digest is None and self._resolved_and_told(store):
                    self._digest = asyncio.ensure_future(self._send_digest())
                if self.duration is not None and self.story.elapsed() >= self.duration:
                    self.story.echo(
                        f"\n{self.story.clock()} {self.duration:g} seconds are up: stopping."
                    )
                    break
                if self.until_told and self._told():
                    self.story.echo(f"\n{self.story.clock()} The story is told: stopping.")
                    break
                stopped = asyncio.ensure_future(self._stop.wait())
                await asyncio.wait({exited, stopped}, timeout=POLL_SECONDS)
                stopped.cancel()
                if exited.done():
                    raise DemoError(self._daemon_died(daemon.returncode))
        finally:
            self.story.store = None
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
        arrived = self.story.digest_arrived
        return arrived is not None and time.monotonic() - arrived >= AFTER_DIGEST_SECONDS

    async def _send_digest(self) -> None:
        """The digest that sums the story up, now rather than at its weekly time: the
        command a user would type."""
        command = f"{program()} --config {self._config} digest {DIGEST_NAME} --send"
        self.story.echo(
            f"{self.story.clock()} The alert has resolved; sending the digest now: {command}"
        )
        sent = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "jobs", "--config", str(self._config),
            "digest", DIGEST_NAME, "--send",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, errors = await sent.communicate()
        if sent.returncode:
            self.story.echo(
                f"{self.story.clock()} The digest was not sent: {errors.decode().strip()}"
            )

    async def _stop_daemon(self, daemon: asyncio.subprocess.Process) -> None:
        if daemon.returncode is not None:
            return
        daemon.send_signal(signal.SIGTERM)
        self.story.echo(
            f"{self.story.clock()} Stopping the daemon (it finishes running crawls first)..."
        )
        try:
            await asyncio.wait_for(daemon.wait(), STOP_GRACE_SECONDS)
        except TimeoutError:
            self.story.echo(f"{self.story.clock()} The daemon did not stop in time: ending it.")
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
            self.story.echo(
                f"\n{self.story.clock()} {cause}: stopping everything (press again to hurry)."
            )
        elif self._daemon is not None and self._daemon.returncode is None:
            # The daemon's answer to a second SIGTERM: stop now, running crawls cut off
            # (marked interrupted, caught up at its next start).
            self._daemon.send_signal(signal.SIGTERM)
        self._stop.set()
