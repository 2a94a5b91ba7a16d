"""What the CLI and the web pages show that joins the config with stored data: sources
with their next run, and the rule thresholds drawn on a metric's chart."""

from dataclasses import dataclass
from datetime import datetime

from jobs.config import Config
from jobs.schedule import next_run
from storage import Store, clock
from storage.formatting import number

NEVER_RUN = {
    **dict.fromkeys(("title", "last_run_id", "status", "last_run", "finished_at", "reason",
                     "last_ok", "values_new", "values_revised", "values_unchanged", "news_new")),
    "runs": 0,
    "failures": 0,
}  # fmt: skip


@dataclass(frozen=True)
class Threshold:
    rule: str
    key: str
    value: float
    measure: str = "value"  # or e.g. "7-period mean": what the rule compares

    @property
    def label(self) -> str:
        shown = number(self.value)
        of = "" if self.measure == "value" else f" ({self.measure})"
        return f"{self.rule}: {self.key.replace('_', ' ')} {shown}{of}"


def sources_overview(config: Config, store: Store, *, now: datetime) -> list[dict]:
    """Stored health of every source, with when the configured schedule runs it next.
    A source only in the config (never run) or only in the database (removed from the
    config) is listed too."""
    rows = {
        row["source"]: {**row, "next_run": None, "schedule": "not in the config"}
        for row in store.queries.source_health()
    }
    for name, source in config.sources.items():
        row = rows.setdefault(
            name, {**NEVER_RUN, "source": name, "kind": source.kind, "url": source.url}
        )
        row["title"] = row.get("title") or source.title
        upcoming = next_run(source.schedule, config.settings.zone, now=now)
        row["next_run"] = clock.to_text(upcoming) if source.enabled and upcoming else None
        row["schedule"] = source.schedule if source.enabled else "disabled"
    return [rows[name] for name in sorted(rows)]


def thresholds_for(config: Config, metric: str) -> list[Threshold]:
    """The levels of the rules that watch `metric`, as each rule kind draws them."""
    found = []
    for name, rule in config.rules.items():
        if not rule.watches(metric) or (drawing := rule.drawing()) is None:
            continue
        found += [Threshold(name, lvl.key, lvl.value, drawing.measure) for lvl in drawing.levels]
    return found
