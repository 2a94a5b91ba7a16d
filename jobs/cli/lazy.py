"""A click group that imports a command's module only when that command runs (click's
documented lazy-loading pattern). `crossings crawl` then pays for neither aiohttp nor the
alert templates; `crossings --help` still imports every module, to show each short help."""

import importlib

import click


class LazyGroup(click.Group):
    """`lazy_commands` maps a command name to "module:attribute" of its click command."""

    def __init__(self, *args, lazy_commands: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            return self.load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def load(self, cmd_name: str) -> click.Command:
        module_name, attribute = self.lazy_commands[cmd_name].split(":")
        return getattr(importlib.import_module(module_name), attribute)
