"""Running crawls: the seam between the scheduler and the crawling.

`LocalRunner` starts ONE child process per call (`python -m jobs.runners.child`) that crawls
all the given sources together; the Twisted reactor cannot restart, and a crash or leak in
a crawl must not take the daemon down. The child writes the run rows and reports one JSON
line per source; the runner turns those into `RunResult`s. A runner never raises: a child
that crashes, hangs past the timeout or is killed still yields one result per source, with
a reason, and its runs left `running` are closed: `interrupted` when the runner stopped it
(shutdown, its time limit), `failed` when it died otherwise (a crash, the OOM killer), so
that health rules and the retries of failed runs apply.

It is one `Runner` (jobs.runners); `jobs.runners.scrapyd.ScrapydRunner` (crawls on Scrapyd
nodes) is the other."""

import asyncio
import contextlib
import json
import logging
import signal
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from core.status import RunStatus
from jobs.config import Config, ConfigError, load
from jobs.lifeline import child_environment
from jobs.logs import relog
from jobs.runners.child import handed
from jobs.runners.results import RunResult, from_row
from storage import Run, StorageError, Store

GRACE_SECONDS = 10.0  # after SIGTERM, how long a child may take to close its runs
STDERR_TAIL = 20  # lines of a crashed child's stderr kept for the reason


class LocalRunner:
    """Crawls in child processes on this machine."""

    def __init__(
        self, config_path: Path, *, timeout: float | None = None, config: Config | None = None
    ) -> None:
        """`config`: the config already read and validated (the daemon's); the child is
        handed [settings] and its sources from it instead of reading the file again (with
        10,000 sources, reading the file was a third of a one-source child's CPU)."""
        self.config_path = Path(config_path)
        self.timeout = timeout
        self.config = config
        self._children: set[asyncio.subprocess.Process] = set()
        self._stopped: set[int] = set()  # pids of children this runner asked to stop

    async def crawl(self, sources: Sequence[str], *, trigger: str = "schedule") -> list[RunResult]:
        """Crawl `sources` in one child; one RunResult per source, in the given order."""
        names = list(dict.fromkeys(sources))
        if not names:
            return []
        started = time.monotonic()
        try:
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "jobs.runners.child",
                "--config",
                str(self.config_path),
                "--trigger",
                trigger,
                "--log-level",
                logging.getLevelName(logging.getLogger().getEffectiveLevel()),
                *(["--time-limit", str(self.timeout)] if self.timeout is not None else []),
                *(["--given"] if self.config is not None else []),
                *names,
                stdin=asyncio.subprocess.PIPE if self.config is not None else None,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=child_environment(),  # it dies with this process (jobs.lifeline)
            )
        except OSError as error:
            return [_failed(name, f"could not start the crawl process: {error}") for name in names]
        self._children.add(child)
        try:
            return await self._follow(child, names, started)
        finally:
            self._children.discard(child)
            self._stopped.discard(child.pid)

    def crawl_sync(self, sources: Sequence[str], *, trigger: str = "manual") -> list[RunResult]:
        """`crawl` for callers without an event loop (the CLI)."""
        return asyncio.run(self.crawl(sources, trigger=trigger))

    def pids(self) -> list[int]:
        """The crawl children still running."""
        return sorted(child.pid for child in self._children if child.returncode is None)

    def kill(self) -> None:
        """Kill every running child (it did not stop when asked): its runs left `running`
        are closed as interrupted by `crawl`, which is waiting for it."""
        for child in list(self._children):
            if child.returncode is None:
                self._stopped.add(child.pid)
                with contextlib.suppress(ProcessLookupError):
                    child.kill()

    def terminate(self) -> None:
        """Ask every running child to stop (daemon shutdown): each cuts its crawl short and
        marks the cut-off runs `interrupted`."""
        for child in list(self._children):
            if child.returncode is None:
                self._stopped.add(child.pid)
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(signal.SIGTERM)

    async def _hand(
        self, child: asyncio.subprocess.Process, names: list[str], config: Config
    ) -> None:
        """Write [settings] and the named sources to the child's stdin (`handed`). A
        child that died first is seen by `_follow`, which says why."""
        assert child.stdin is not None
        with contextlib.suppress(ConnectionError):
            child.stdin.write(handed(config, names))
            await child.stdin.drain()
        child.stdin.close()

    async def _follow(
        self, child: asyncio.subprocess.Process, names: list[str], started: float
    ) -> list[RunResult]:
        run_ids: dict[str, int] = {}
        finished: dict[str, RunResult] = {}
        stderr: list[str] = []  # the last lines' text, to explain a crash
        fields = {"source": ",".join(names), "pid": child.pid}

        async def read_stdout() -> None:
            assert child.stdout is not None
            async for raw in child.stdout:
                _take(raw, run_ids, finished)

        async def read_stderr() -> None:
            assert child.stderr is not None
            async for raw in child.stderr:
                stderr.append(relog(raw, fields))
                del stderr[:-STDERR_TAIL]

        handing = [self._hand(child, names, self.config)] if self.config is not None else []
        readers = asyncio.gather(read_stdout(), read_stderr(), *handing)
        timed_out = False
        try:
            # The child cuts itself off at the time limit; this is the backstop if it hangs.
            limit = None if self.timeout is None else self.timeout + GRACE_SECONDS
            await asyncio.wait_for(asyncio.shield(readers), limit)
        except TimeoutError:
            timed_out = True
            await self._stop(child)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(readers, GRACE_SECONDS)
        except asyncio.CancelledError:
            await self._stop(child)
            raise
        returncode = await child.wait()
        missing = [name for name in names if name not in finished]
        if missing:
            why = self._why(returncode, timed_out, stderr)
            stopped = timed_out or child.pid in self._stopped
            status = RunStatus.INTERRUPTED if stopped else RunStatus.FAILED
            wanted = [run_ids.get(name) for name in missing]
            rows = self._close_orphans(child.pid, why, wanted, status)
            for name in missing:
                run_id = run_ids.get(name)
                row = rows.get(run_id) if run_id is not None else None
                finished[name] = (
                    from_row(name, row)
                    if row
                    else RunResult(
                        name, None, RunStatus.FAILED, f"{name}: {why}",
                        seconds=round(time.monotonic() - started, 3),
                    )
                )  # fmt: skip
        return [finished[name] for name in names]

    async def _stop(self, child: asyncio.subprocess.Process) -> None:
        if child.returncode is not None:
            return
        self._stopped.add(child.pid)
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(child.wait(), GRACE_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                child.kill()

    def _why(self, returncode: int, timed_out: bool, stderr: list[str]) -> str:
        if timed_out:
            return f"the crawl took longer than {self.timeout:g} s and was stopped"
        if returncode < 0:
            name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else ""
            return (
                f"the crawl process was killed ({name or -returncode}) before this source finished"
            )
        if returncode == 2 and stderr:
            return stderr[-1]
        tail = " | ".join(line for line in stderr[-3:] if line)
        return f"the crawl process exited with status {returncode} before this source finished" + (
            f": {tail}" if tail else ""
        )

    def _close_orphans(
        self, pid: int, why: str, run_ids: list[int | None], status: RunStatus
    ) -> dict[int, Run]:
        """Close the runs the child left `running` (with `status` and the reason), and
        return the rows of `run_ids`: the child may have finished some without saying so."""
        wanted = [run_id for run_id in run_ids if run_id is not None]
        try:
            database = (self.config or load(self.config_path)).database
            if not wanted or not database.exists():
                return {}
            with Store(database) as store:
                store.runs.mark_interrupted(reason=why, pid=pid, status=status)
                return {run_id: row for run_id in wanted if (row := store.runs.get(run_id))}
        except (ConfigError, StorageError, sqlite3.Error, OSError):
            return {}  # nothing was written, or nothing can be: the results still say why


def _take(raw: bytes, run_ids: dict[str, int], finished: dict[str, RunResult]) -> None:
    try:
        line = json.loads(raw)
    except ValueError:
        return
    if not isinstance(line, dict):
        return
    if line.get("event") == "started" and isinstance(line.get("runs"), dict):
        run_ids.update(line["runs"])
    elif line.get("event") == "finished" and "source" in line:
        fields = {key: line[key] for key in RunResult.__dataclass_fields__ if key in line}
        finished[line["source"]] = RunResult(**fields)


def _failed(name: str, reason: str) -> RunResult:
    return RunResult(name, None, RunStatus.FAILED, f"{name}: {reason}")
