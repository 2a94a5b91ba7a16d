"""Source health: a run ended broken (the page no longer looks as the parser expects),
or failed (network, server) several times in a row. Resolves on the next good run. A good
run that stored new rows or columns of a table (`allow_new`) is announced once, as a
notice."""

from collections.abc import Iterator
from dataclasses import dataclass, field

from alerts.rule import Notice, StatefulRule, StateOf, Step
from alerts.view import View
from core.checked import SourceName
from core.status import ARCHIVE_TRIGGER, FAILURES, RunStatus
from storage import Cursor


@dataclass(frozen=True, kw_only=True)
class SourceHealth(StatefulRule, kind="source_health"):
    """A source's run ended broken, or failed `failures` times in a row. While it fires,
    alerts of rules on that source's metrics are held back; it names them."""

    inhibits = True

    source: SourceName = field(
        default="*", metadata={"help": "The source name, or '*' for every one."}
    )
    failures: int = field(
        default=3, metadata={"help": "Failed runs in a row before alerting (broken: at once)."}
    )

    def problems(self) -> list[str]:
        found = super().problems()
        if self.failures < 1:
            found.append("failures must be at least 1")
        return found

    def observe(self, view: View, cursor: Cursor, state_of: StateOf) -> Iterator[Step | Notice]:
        runs = [
            run
            for run in view.runs(cursor.run_finished_at)
            if self.source in ("*", run.source)
            and run.status != RunStatus.RUNNING
            and run.trigger != ARCHIVE_TRIGGER  # it read an archive, not the site
        ]
        streaks: dict[str, int] = {}
        for run in runs:
            source = run.source
            if source not in streaks:
                streaks[source] = state_of(source).detail.get("failed_in_a_row", 0)
            status = RunStatus(run.status)
            streak = streaks[source] + 1 if status in FAILURES else 0
            if status is RunStatus.INTERRUPTED:
                streak = streaks[source]
            streaks[source] = streak
            if status is RunStatus.OK and run.notice:
                yield Notice(
                    series=source,
                    key=f"run-notice:{run.id}",
                    period=run.finished_at,
                    value=None,
                    says=f"run {run.id} of {source}: {run.notice}",
                    facts={
                        "run": {
                            k: getattr(run, k) for k in ("id", "status", "notice", "finished_at")
                        }
                    },
                )
            fire = status is RunStatus.BROKEN or streak >= self.failures
            reason = run.reason or "no reason recorded"
            says = f"run {run.id} of {source} ended {run.status}: {reason}"
            if status is RunStatus.FAILED:
                says += f" ({streak} failed in a row)"
            held = view.rules_on_source(source) if fire else []
            if held:
                says += f"; alerts of {', '.join(held)} are held until it recovers"
            yield Step(
                series=source,
                period=run.finished_at or "",  # set: the view gives finished runs
                fire=fire,
                clear=status.succeeded,
                value=float(streak),
                says=says,
                facts={
                    "run": {
                        k: getattr(run, k)
                        for k in ("id", "status", "reason", "started_at", "finished_at")
                    },
                    "failed_in_a_row": streak,
                    "threshold": self.failures,
                    "held_rules": held,
                },
                remember={"failed_in_a_row": streak},
            )
