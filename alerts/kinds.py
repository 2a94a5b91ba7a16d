"""Every rule and channel kind, each registered by importing its package."""

import alerts.channels
import alerts.rules  # noqa: F401
from alerts.channel import Channel
from alerts.rule import Rule

RULE_KINDS = Rule.kinds
CHANNEL_KINDS = Channel.kinds
