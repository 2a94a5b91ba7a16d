"""The crawl runners behind one seam: the scheduler says what to crawl, a `Runner` crawls
it somewhere and says how each run ended. `LocalRunner` (jobs.runners.local) crawls in a
child process on this machine (jobs.runners.child), `ScrapydRunner` (jobs.runners.scrapyd)
on Scrapyd nodes; `[settings] runner` chooses (`runner_for`)."""

from collections.abc import Sequence
from typing import Protocol

from jobs.config import Config
from jobs.runners.results import RunResult


class Runner(Protocol):
    """Crawls sources somewhere and says how each run ended; never raises."""

    async def crawl(
        self, sources: Sequence[str], *, trigger: str = "schedule"
    ) -> list[RunResult]: ...

    def terminate(self) -> None:
        """Ask the running crawls to stop (called twice: ask, then insist); their cut-off
        runs end `interrupted`."""

    def pids(self) -> list[int]:
        """The crawl processes of this machine still running (none for remote crawls)."""
        ...

    def kill(self) -> None:
        """Stop the crawls that did not stop when asked, at once."""


def runner_for(config: Config, *, timeout: float | None = None) -> Runner:
    """The runner `[settings] runner` names."""
    if config.settings.runner == "scrapyd":
        from jobs.runners.scrapyd import ScrapydRunner

        return ScrapydRunner(config, timeout=timeout)
    from jobs.runners.local import LocalRunner

    return LocalRunner(config.path, timeout=timeout, config=config)
