"""Scraped text on its way out: to a terminal, a log line or a mail header. A page may
carry control characters (an ESC that starts a terminal escape sequence, a bell, C1
codes, bidirectional overrides that reorder what a reader sees); they are dropped before
the text is shown, so a page's title cannot recolour a terminal, forge a log line's
look or hide part of an alert's subject. Stored text is left as it was fetched."""

import re

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional embeddings,
# overrides and isolates (U+202A-202E, U+2066-2069).
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without control characters (tabs and newlines are kept)."""
    return CONTROLS.sub("", text)
