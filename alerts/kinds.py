"""Every rule and channel kind, imported so that each registers itself."""

from alerts.channel import Channel
from alerts.channels import apprise, console, email, webhook  # noqa: F401
from alerts.rule import Rule
from alerts.rules import change, health, late, news, revision, stale, threshold  # noqa: F401

RULE_KINDS = Rule.kinds
CHANNEL_KINDS = Channel.kinds
