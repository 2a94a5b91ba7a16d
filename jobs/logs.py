"""The daemon's log: readable lines for a person at a terminal, or one JSON object per line
(`--log-format json`) for a log collector. Structured details travel as `extra={"fields":
{...}}`; the text form shows only the message, the JSON form adds the fields.

A crawl child logs every record as one JSON line on its stderr (`setup_child`), and the
daemon's runner re-logs each line here (`relog`), so a child's Scrapy warnings and
tracebacks appear in the daemon's log, in its format, with the child's sources and pid."""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal

from core.text import printable
from jobs.runners.results import RunResult

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
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
        elif record.exc_text:  # a child's traceback, re-logged
            entry["traceback"] = record.exc_text
        return json.dumps(entry, default=str)


class _ChildFields(logging.Filter):
    """Adds the child's sources and pid to every record; drops Scrapy's and Twisted's
    progress chatter unless the level is DEBUG (their warnings always pass)."""

    def __init__(self, fields: dict, level: int) -> None:
        super().__init__()
        self.fields, self.level = fields, level

    def filter(self, record: logging.LogRecord) -> bool:
        chatter = record.name.split(".")[0] in ("scrapy", "twisted", "py")
        if chatter and self.level > logging.DEBUG and record.levelno < logging.WARNING:
            return False
        record.fields = {**self.fields, **getattr(record, "fields", {})}
        return True


def setup_child(level: str, fields: dict) -> None:
    """In a crawl child: every record at `level` or above as one JSON line on stderr."""
    number = logging.getLevelName(level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_ChildFields(fields, number))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(number)


def relog(raw: bytes, fields: dict) -> str:
    """Log one stderr line of a crawl child through this process's logging (a line that
    is not the child's JSON, such as an early crash, as a warning); returns its text."""
    text = raw.decode("utf-8", "replace").rstrip()
    try:
        entry = json.loads(text)
    except ValueError:
        entry = None
    if not isinstance(entry, dict) or "message" not in entry:
        entry = {"level": "warning", "logger": "stderr", "message": text}
    if not entry["message"]:
        return ""
    level = logging.getLevelName(str(entry.get("level", "warning")).upper())
    level = level if isinstance(level, int) else logging.WARNING
    logger = logging.getLogger(f"crossings.crawl.{entry.get('logger') or 'child'}")
    if logger.isEnabledFor(level):
        details = {k: v for k, v in entry.items() if k not in ("time", "level", "message")}
        traceback = details.pop("traceback", None)
        shown = {**fields, **details}
        record = logger.makeRecord(
            logger.name, level, "(crawl child)", 0,
            "%s (pid %s): %s", (shown.get("source"), shown.get("pid"), entry["message"]),
            None, extra={"fields": shown},
        )  # fmt: skip
        record.exc_text = traceback
        logger.handle(record)
    return str(entry["message"])


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
        text += f" — {result.unnamed(result.reason)}"
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
