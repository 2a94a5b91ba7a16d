"""What every command needs: the config (loaded once) and the store (read-only unless the
command writes). Their errors are shown by the `crossings` group (jobs/cli/__init__.py)."""

import difflib
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path

import click

from core.checked import HostPort
from jobs.config import Config, load, locate
from jobs.typed import ClickType
from jobs.when import When, parse_moment, parse_when
from storage import Store


class Context:
    def __init__(self, config_path: Path | None, *, schedules: bool = True) -> None:
        """`schedules=False`: the command never schedules, so the config's cron lines are
        left to `crossings check` and the daemon (see `jobs.config.load`)."""
        self.config_path = locate(config_path)
        self.schedules = schedules
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load(self.config_path, schedules=self.schedules)
        return self._config

    def store(self, *, read_only: bool = True) -> Store:
        """Queries get a read-only connection; only commands that write ask otherwise."""
        return Store(self.config.database, read_only=read_only)


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
        return parse_moment(
            text, context.config.settings.zone, now=datetime.now(UTC), whole_day=whole_day
        )
    except ValueError as error:
        raise BadArgument(f"{option}: {error}") from None


def user_when(context: Context, text: str | None, option: str) -> When | None:
    """The stretch of time a user named (see jobs/when.py), or a usage error naming the
    option."""
    if text is None:
        return None
    try:
        return parse_when(text, context.config.settings.zone, now=datetime.now(UTC))
    except ValueError as error:
        raise BadArgument(f"{option}: {error}") from None
