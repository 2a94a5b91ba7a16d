"""What every command needs: the config (loaded once) and the store (read-only unless the
command writes). Their errors are shown by the `crossings` group (jobs/cli/__init__.py).
A command that reads stored data reads only the file's [settings] unless it asks for the
whole config: building that imports every source, rule and channel kind."""

import difflib
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.checked import HostPort
from jobs.settings import ConfigFile, Settings, load_settings, locate
from jobs.typed import ClickType
from jobs.when import When, parse_moment, parse_when
from storage import Store

if TYPE_CHECKING:
    from jobs.config import Config


class Context:
    def __init__(self, config_path: Path | None, *, reads_stored: bool = False) -> None:
        """`reads_stored=True`: the command reads stored data and never schedules
        (`UNSCHEDULED` in jobs/cli/__init__.py). It needs only [settings] (`file`),
        and when it asks for the whole config, the cron lines are left unchecked, to
        `crossings check` and the daemon (see `jobs.config.load`). Other commands load
        and check the whole config before anything else, as before."""
        self.config_path = locate(config_path)
        self.reads_stored = reads_stored
        self._config: Config | None = None
        self._file: ConfigFile | None = None

    @property
    def config(self) -> "Config":
        if self._config is None:
            from jobs.config import load  # every kind: only for a command that uses them

            self._config = load(self.config_path, schedules=not self.reads_stored)
        return self._config

    @property
    def file(self) -> ConfigFile:
        """The config's path and [settings]: read alone for a command reading stored
        data (a mistake elsewhere in the file does not stop it), else the whole config."""
        if self._config is not None or not self.reads_stored:
            return self.config
        if self._file is None:
            self._file = load_settings(self.config_path)
        return self._file

    @property
    def settings(self) -> Settings:
        return self.file.settings

    def store(self, *, read_only: bool = True) -> Store:
        """Queries get a read-only connection; only commands that write ask otherwise."""
        return Store(self.file.database, read_only=read_only)


pass_context = click.make_pass_decorator(Context)


def listen_option(help_text: str) -> Callable:
    """`--listen HOST:PORT`, checked as `listen` in [settings] is."""
    return click.option("--listen", type=ClickType(HostPort), metavar="HOST:PORT", help=help_text)


class BadArgument(click.ClickException):
    """An argument or option the command cannot use: one line (no usage text), exit 2."""

    exit_code = 2


def one_of(what: str, name: str, known: Collection[str]) -> str:
    """`name` when it is one of the `known` names of a `what` (source, rule, channel,
    digest), else a one-line error that lists them and the closest. (Called once per
    name given: with 10,000 sources, sorting them each time took a minute.)"""
    if name in known:
        return name
    names = sorted(set(known))
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(names) or "none configured"
    raise click.ClickException(f"no {what} named {name!r} (known: {listed}){hint}")


def user_moment(
    context: Context, text: str | None, option: str, *, whole_day: bool = False
) -> str | None:
    """A user's time as stored text (see jobs/when.py), or a usage error naming the option."""
    if text is None:
        return None
    try:
        return parse_moment(text, context.settings.zone, now=datetime.now(UTC), whole_day=whole_day)
    except ValueError as error:
        raise BadArgument(f"{option}: {error}") from None


def user_when(context: Context, text: str | None, option: str) -> When | None:
    """The stretch of time a user named (see jobs/when.py), or a usage error naming the
    option."""
    if text is None:
        return None
    try:
        return parse_when(text, context.settings.zone, now=datetime.now(UTC))
    except ValueError as error:
        raise BadArgument(f"{option}: {error}") from None
