"""Every rule and channel kind, imported so that each registers itself."""

from alerts.channel import Channel
from alerts.rule import Rule

RULE_KINDS = Rule.kinds
CHANNEL_KINDS = Channel.kinds
