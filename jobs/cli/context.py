"""What every command needs: the config (loaded once, errors shown as a list, exit 2)
and the store (read-only unless the command writes)."""

from collections.abc import Callable
from pathlib import Path

import click

from jobs.config import Config, ConfigError, load, locate
from jobs.typed import ClickType
from storage import StorageError, Store
from storage.checked import HostPort

CONFIG_ERROR_EXIT = 2


class Context:
    def __init__(self, config_path: Path | None) -> None:
        self.config_path = locate(config_path)
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load(self.config_path)
            except ConfigError as error:
                click.echo(f"Error: {error}", err=True)
                raise click.exceptions.Exit(CONFIG_ERROR_EXIT) from None
        return self._config

    def store(self, *, read_only: bool = True) -> Store:
        """Queries get a read-only connection; only commands that write ask otherwise."""
        try:
            return Store(self.config.database, read_only=read_only)
        except StorageError as error:
            raise click.ClickException(str(error)) from None


pass_context = click.make_pass_decorator(Context)


def listen_option(help_text: str) -> Callable:
    """`--listen HOST:PORT`, checked as `listen` in [settings] is."""
    return click.option("--listen", type=ClickType(HostPort), metavar="HOST:PORT", help=help_text)
