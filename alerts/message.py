"""A message ready for any channel: subject, plain text, HTML (with inline images by
content id) and the structured data webhooks send. The idempotency key travels with it
(a webhook header, the email Message-ID) so receivers can drop a repeat delivery."""

from dataclasses import dataclass, field

from core.errors import CrossingsError
from core.text import printable


class DeliveryError(CrossingsError):
    """A message could not be delivered; the text says which channel, what failed and
    what to do. Delivery records it and retries later."""


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    data: dict
    idempotency_key: str
    images: dict[str, bytes] = field(default_factory=dict)  # content id -> PNG


def one_line(text: str, limit: int = 250) -> str:
    """A header-safe line: scraped text may carry CR/LF (header injection), control
    characters or be long."""
    flat = " ".join(printable(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
