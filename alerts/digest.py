"""Digest settings: a daily or weekly summary sent to channels."""

from dataclasses import dataclass, field

from core.checked import ChannelName


@dataclass(frozen=True, kw_only=True)
class Digest:
    name: str = field(metadata={"toml": False})
    schedule: str = field(
        default="0 8 * * 1",
        metadata={"help": "When to send: a cron line in the configured timezone (Mondays 08:00)."},
    )
    channels: tuple[ChannelName, ...] = field(
        metadata={"help": "Channels that receive the digest."}
    )
    metrics: tuple[str, ...] = field(
        default=("*",), metadata={"help": "Metric name patterns to chart ('cbp.*')."}
    )
    title: str = field(default="", metadata={"help": "Subject line; default names the period."})
