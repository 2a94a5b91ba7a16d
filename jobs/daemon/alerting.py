"""The daemon's alert work, in two lanes that never wait for each other:

- **evaluation**: rules over what was stored (after each crawl, at start-up and on a short
  timer) and digests; it only queues messages in the outbox;
- **delivery**: sends what the outbox holds and is due (poked after each evaluation, and
  every 30 s for retries).

Each piece of work runs in its own short-lived process (`jobs.daemon.alert_worker`):
charts (matplotlib, about 45 MB that never leaves a process once loaded) stay out of the
daemon, and its event loop (scheduler, crawl queue, health endpoint) never waits on a
mail server. A lane runs one process at a time, and a request for work that is already
waiting joins it. A crawl never waits for either lane; a slow receiver holds only the
delivery lane, for at most its channel's `timeout` per message. A message being sent is
leased in the outbox, so nothing is sent twice even if its worker is stopped meanwhile."""

import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from core import clock
from jobs.config import Config
from jobs.lifeline import child_environment
from jobs.logs import LogFormat
from storage import Store

log = logging.getLogger("crossings.daemon")

STOP_WAIT = 5.0  # seconds a worker gets after SIGTERM before it is killed
# Rules are evaluated at least this often even when nothing was stored: time alone moves
# some (`stale`: no new period for longer than `after`).
TIME_DRIVEN_EVERY = timedelta(minutes=10)


async def never_raising(what: str, work: Awaitable[None]) -> None:
    """Await one piece of the daemon's work (a scheduled job, alert work in the
    background); its failure is logged with what happens next, never raised: the daemon
    and its scheduler go on."""
    try:
        await work
    except Exception as error:
        log.exception(
            "%s failed: %s; the daemon goes on and tries again on schedule",
            what,
            error,
            extra={"fields": {"event": "job-error", "job": what}},
        )


@dataclass
class Lane:
    """One kind of alert work: one worker process at a time."""

    name: str
    config: Config
    log_format: LogFormat
    worker: asyncio.subprocess.Process | None = None
    closed: bool = False  # the daemon is stopping: no new work
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    _waiting: set[tuple[str, ...]] = field(default_factory=set)

    async def run(self, what: str, *task: str) -> bool:
        """Run `task` in a worker after the one in hand; True if it did its work. If the
        same task is already waiting its turn, that run will see everything this one
        would: return at once (True)."""
        if self.closed:
            return False
        if task in self._waiting:
            return True
        self._waiting.add(task)
        try:
            async with self._turn:
                self._waiting.discard(task)
                return not self.closed and await self._work(what, task)
        finally:
            self._waiting.discard(task)

    async def _work(self, what: str, task: tuple[str, ...]) -> bool:
        try:
            self.worker = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "jobs.daemon.alert_worker",
                "--config", str(self.config.path), "--log-format", self.log_format, *task,
                stdin=asyncio.subprocess.DEVNULL, env=child_environment(),
            )  # fmt: skip
        except OSError as error:
            log.error("could not start the alert worker for %s: %s", what, error)
            return False
        try:
            status = await self.worker.wait()
        finally:
            self.worker = None
        if status != 0:
            log.error(
                "%s failed (the alert worker exited with status %s; its lines are just "
                "above). Nothing was lost: events and messages stay in the database and "
                "the next run tries again",
                what,
                status,
                extra={"fields": {"event": "alert-error", "what": what, "status": status}},
            )
        return status == 0


async def _stop(worker: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL if it does not exit within STOP_WAIT."""
    with contextlib.suppress(ProcessLookupError):
        worker.terminate()
    try:
        await asyncio.wait_for(worker.wait(), STOP_WAIT)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            worker.kill()
        await worker.wait()


class Alerting:
    def __init__(self, config: Config, *, log_format: LogFormat = "text") -> None:
        self.config = config
        self.evaluation = Lane("rule evaluation", config, log_format)
        self.delivery = Lane("alert delivery", config, log_format)
        self.tasks: set[asyncio.Task] = set()  # work started in the background

    @property
    def busy(self) -> bool:
        return any(not task.done() for task in self.tasks)

    def soon(self, what: str, work: Coroutine[None, None, None]) -> None:
        """Start alert work in the background: a crawl or the scheduler must not wait
        for it. Its failure is logged, never raised."""

        task = asyncio.create_task(never_raising(what, work), name=what)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def evaluate(self) -> None:
        """Evaluate every rule over what was stored since it last looked, then send."""
        if self.config.rules:
            await self.evaluation.run("rule evaluation", "evaluate")
        await self.deliver()

    async def evaluate_if_due(self) -> None:
        """The short timer: evaluate when something was stored since the rules last
        looked, or time alone may have moved a rule (data late: `stale`)."""
        if not self.config.rules:
            return
        if await asyncio.to_thread(self._evaluation_due):
            await self.evaluate()

    async def deliver(self) -> None:
        """Send the messages that are due (new ones and retries), if there are any."""
        if await asyncio.to_thread(self._anything_due):
            await self.delivery.run("alert delivery", "deliver")

    async def digest(self, name: str) -> None:
        if await self.evaluation.run(f'digest "{name}"', "digest", name):
            await self.deliver()

    async def finish(self, timeout: float) -> list[str]:
        """At shutdown: let the work in hand end within `timeout` seconds, then stop
        what is left. Returns what had to be stopped, e.g. ['alert delivery (pid 12)']."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)
        return await self.stop_now()

    async def stop_now(self) -> list[str]:
        """Stop every worker at once: SQLite rolls back what was not committed, and a
        message whose sending was cut off is sent again later (its lease runs out).
        Returns what was stopped."""
        lanes = (self.evaluation, self.delivery)
        running = [
            (lane.name, lane.worker)
            for lane in lanes
            if lane.worker is not None and lane.worker.returncode is None
        ]
        for lane in lanes:
            lane.closed = True  # no new work; then nothing waits for the running work
        for task in list(self.tasks):
            task.cancel()
        for _, worker in running:
            await _stop(worker)
        if self.tasks:
            await asyncio.wait(set(self.tasks))
        return [f"{name} (pid {worker.pid})" for name, worker in running]

    def _anything_due(self) -> bool:
        with Store(self.config.database, read_only=True) as store:
            return store.stats.outbox_due(clock.now()) > 0

    def _evaluation_due(self) -> bool:
        stale = clock.to_text(datetime.now(UTC) - TIME_DRIVEN_EVERY)
        with Store(self.config.database, read_only=True) as store:
            return store.alerts.evaluation_due(list(self.config.rules), evaluated_before=stale)
