"""The daemon's log: readable lines for a person at a terminal, or one JSON object per line
(`--log-format json`) for a log collector. Structured details travel as `extra={"fields":
{...}}`; the text form shows only the message, the JSON form adds the fields."""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal

from jobs.runner import RunResult
from storage import printable

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")
QUIET = ("apscheduler", "aiohttp.access", "asyncio")  # chatter a user does not need


class TextFormatter(logging.Formatter):
    """'2026-11-28 09:14:24 INFO    message'; control characters a scraped page put in
    the message (a terminal escape sequence) are dropped. JSON escapes them itself."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup(log_format: LogFormat = "text", *, level: int = logging.INFO) -> None:
    """Send every crossings log line to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def run_summary(result: RunResult, trigger: str) -> tuple[str, dict]:
    """One line per finished run, e.g. 'trac-backlog ok new=3 revised=0 unchanged=40
    news=0 1.2s', with the same facts as fields."""
    text = (
        f"{result.source} {result.status} new={result.values_new} "
        f"revised={result.values_revised} unchanged={result.values_unchanged} "
        f"news={result.news_new} {result.seconds:.1f}s"
    )
    if result.reason:
        text += f" — {result.reason}"
    fields = {
        "event": "run",
        "run_id": result.run_id,
        "source": result.source,
        "status": result.status,
        "trigger": trigger,
        "new": result.values_new,
        "revised": result.values_revised,
        "unchanged": result.values_unchanged,
        "news": result.news_new,
        "requests": result.requests,
        "bytes": result.bytes,
        "seconds": result.seconds,
        "reason": result.reason,
    }
    return text, fields
