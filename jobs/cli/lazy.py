"""A click group that imports a command's module only when that command runs (click's
documented lazy-loading pattern). `crossings crawl` then pays for neither aiohttp nor the
alert templates, and `crossings --help` lists the commands from a table of their short
helps, importing none of them."""

import importlib

import click


class LazyGroup(click.Group):
    """`lazy_commands` maps a command name to "module:attribute" of its click command."""

    def __init__(
        self, *args, lazy_commands: dict[str, str], listing: dict[str, str], **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands
        self.listing = listing  # name -> short help, as `--help` lists it

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click lists them, from the table rather than the loaded commands."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            (name, click.Command(name, help=self.listing[name]).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            return self.load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def load(self, cmd_name: str) -> click.Command:
        module_name, attribute = self.lazy_commands[cmd_name].split(":")
        return getattr(importlib.import_module(module_name), attribute)
