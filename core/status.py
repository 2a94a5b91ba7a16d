"""Run status words and counters: how a run ended and what it did. Every part reads
them (the crawler, the daemon, the CLI, rules, /metrics); storage's SQL names statuses
only through these classes (`storage.runs.sql_list`)."""

from dataclasses import dataclass, fields
from enum import StrEnum


class RunStatus(StrEnum):
    """How a run ended (or `running`). The one definition of "succeeded": the crawler, the
    daemon, the CLI, rules and /metrics all ask `.succeeded`."""

    RUNNING = "running"
    OK = "ok"  # fetched and stored
    UNCHANGED = "unchanged"  # every page answered as before: nothing new to store
    FAILED = "failed"  # network or server trouble; likely to pass
    BROKEN = "broken"  # the page no longer looks as the parser expects
    INTERRUPTED = "interrupted"  # the process stopped before the run ended

    @property
    def succeeded(self) -> bool:
        return self in SUCCEEDED


SUCCEEDED = frozenset({RunStatus.OK, RunStatus.UNCHANGED})
# Ended in trouble: counted as a source's failures, listed by the failed_runs view.
FAILURES = frozenset({RunStatus.FAILED, RunStatus.BROKEN})
# The site answered with a page (good or not): a streak of failed runs ends there.
REACHED_SITE = SUCCEEDED | {RunStatus.BROKEN}
FINAL = tuple(status for status in RunStatus if status is not RunStatus.RUNNING)
# The trigger of a run that read a web archive (`crossings backfill`), not the site: it says
# nothing about the site's health, and is not a crawl the schedule counts.
ARCHIVE_TRIGGER = "backfill"


@dataclass(kw_only=True)
class RunCounts:
    """What a run did: the one declaration of the run counters (the runs table's columns).
    The crawler's live run and the runner's result extend it, adding to these fields."""

    requests: int = 0
    bytes: int = 0
    values_new: int = 0
    values_revised: int = 0
    values_unchanged: int = 0
    news_new: int = 0


COUNTERS = tuple(field.name for field in fields(RunCounts))
