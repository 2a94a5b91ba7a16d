"""Reading a web archive's capture index (CDX). The Internet Archive answers `output=json`
with one JSON array of rows, the first naming the columns; pywb (and the national archives
that run it) answers with one JSON object per line. Both name a capture by its timestamp
(YYYYMMDDhhmmss), its original URL, HTTP status and body digest."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from core import clock
from core.errors import CrossingsError

# the Internet Archive's column names, then pywb's for the same thing
COLUMNS = {"original": "url", "statuscode": "status", "mimetype": "mime"}


class CdxError(CrossingsError):
    """An archive's capture index answered something that is not a capture list."""


@dataclass(frozen=True)
class Capture:
    """One capture of a URL in an archive."""

    timestamp: str  # YYYYMMDDhhmmss, UTC
    url: str
    status: str  # as archived: '200', '302', '-' (IA: a revisit or unknown)
    digest: str
    mime: str = ""

    @property
    def at(self) -> str:
        """The capture time, as crossings writes times."""
        moment = datetime.strptime(self.timestamp.ljust(14, "0")[:14], "%Y%m%d%H%M%S")
        return clock.to_text(moment.replace(tzinfo=UTC))

    @property
    def day(self) -> str:
        return f"{self.timestamp[:4]}-{self.timestamp[4:6]}-{self.timestamp[6:8]}"


def parse(text: str, where: str) -> list[Capture]:
    """The captures of an answer in either form, oldest first. Raises CdxError naming
    `where` and what came instead."""
    text = text.strip()
    if not text:
        return []
    try:
        rows = _rows(text)
        captures = [
            Capture(
                timestamp=str(row["timestamp"]),
                url=str(row["url"]),
                status=str(row.get("status") or "-"),
                digest=str(row.get("digest") or ""),
                mime=str(row.get("mime") or ""),
            )
            for row in rows
        ]
    except (ValueError, KeyError, TypeError, IndexError) as error:
        shown = text[:60].replace("\n", " ")
        raise CdxError(
            f"the capture index at {where} did not answer a CDX JSON list ({error}; it began "
            f"{shown!r}): check the --archive address (a pywb collection, or the Internet "
            "Archive's https://web.archive.org/web)"
        ) from None
    return sorted(captures, key=lambda capture: capture.timestamp)


def _rows(text: str) -> list[dict]:
    """Dicts keyed by pywb's column names, from either form."""
    if text.startswith("["):
        table = json.loads(text)
        if not table:
            return []
        header = [COLUMNS.get(name, name) for name in table[0]]
        return [dict(zip(header, row, strict=True)) for row in table[1:]]
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    if not all(isinstance(row, dict) for row in rows):
        raise ValueError("a line is not a JSON object")
    return rows


def collapse(captures: list[Capture]) -> list[Capture]:
    """Drop a capture whose body is the same as the one before it (same digest): it says
    nothing new. A body that comes back after another is kept (a change undone)."""
    kept: list[Capture] = []
    for capture in captures:
        if kept and capture.digest and capture.digest == kept[-1].digest:
            continue
        kept.append(capture)
    return kept
