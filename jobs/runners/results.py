"""What a finished run reports, whichever runner crawled it (a local child, a Scrapyd
node): the daemon, the CLI and the logs read the same `RunResult`."""

from dataclasses import dataclass

from core import clock
from core.status import COUNTERS, RunCounts, RunStatus
from jobs.invocation import program
from storage import Run


@dataclass
class RunResult(RunCounts):
    """A finished run as the daemon and the CLI see it: its counters and outcome."""

    source: str
    run_id: int | None
    status: RunStatus
    reason: str | None
    notice: str | None = None  # new rows or columns stored (allow_new)
    sample: str | None = None  # an unverified source's first values, to check by eye
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.status = RunStatus(self.status)  # from a child's JSON line: plain text

    @property
    def succeeded(self) -> bool:
        return self.status.succeeded

    def unnamed(self, said: str) -> str:
        """A reason or notice without the source name it starts with (stored, it names
        its source; a line that names the source already says only the rest)."""
        return said.removeprefix(f"{self.source}: ")


def from_row(name: str, row: Run) -> RunResult:
    seconds = 0.0
    if row.finished_at:
        seconds = (clock.parse(row.finished_at) - clock.parse(row.started_at)).total_seconds()
    return RunResult(
        source=name,
        run_id=row.id,
        status=RunStatus(row.status),
        reason=row.reason,
        notice=row.notice,
        **{counter: getattr(row, counter) for counter in COUNTERS},
        seconds=round(seconds, 3),
    )


def to_try(sources: str) -> str:
    """What to do after runs of `sources` failed, the one wording the CLI uses: a failed
    fetch calls for the network. (A broken run's reason already ends with what to do about
    the page: `scrapers.recorder.broken_hint`.)"""
    crossings = program()
    return (
        f"check the address and this machine's network, then `{crossings} crawl {sources}`; "
        f"the daemon retries failed sources by itself (`{crossings} sources` says when)"
    )
