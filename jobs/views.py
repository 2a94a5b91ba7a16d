"""What the CLI and the web pages show that joins the config with stored data: sources
with their next run, and the rule thresholds drawn on a metric's chart."""

from dataclasses import dataclass
from datetime import datetime

from alerts.releases import due, history, learn
from jobs import polling
from jobs.config import Config
from jobs.schedule import next_run
from scrapers.source import Source
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
    """Stored health of every source, with when it runs next, its release rhythm, the
    release it expects next and how it is polled. A source only in the config (never
    run) or only in the database (removed from the config) is listed too."""
    rows = {
        row["source"]: {**row, "next_run": None, "schedule": "not in the config",
                        "releases": "", "next_release": "", "polling": ""}
        for row in store.queries.source_health()
    }  # fmt: skip
    budgets = polling.budgets(config.sources, config.settings.polling_budget)
    for name, source in config.sources.items():
        row = rows.setdefault(
            name, {**NEVER_RUN, "source": name, "kind": source.kind, "url": source.url}
        )
        row["title"] = row.get("title") or source.title
        row["schedule"] = source.schedule if source.enabled else "disabled"
        row.update(_polling(config, store, source, budgets.get(name), now=now))
    return [rows[name] for name in sorted(rows)]


def _polling(
    config: Config, store: Store, source: Source, budget: int | None, *, now: datetime
) -> dict:
    """next_run, releases (the rhythm), next_release and polling (the plan) of a source."""
    zone = config.settings.zone
    upcoming = None
    if not polling.is_auto(source):
        upcoming = next_run(source.schedule, zone, now=now)
    if source.enabled and budget is not None:
        plan = polling.plan_source(store, source, zone, budget=budget, now=now)
        cadence, window, expected = plan.cadence, plan.window, plan.due
        planned = plan.next_poll(now)
        upcoming = min(filter(None, (upcoming, planned)), default=None)
        how = plan.words()
    else:
        known = history(store, source.name)
        cadence = learn(known.releases, None, zone)
        expected = window = due(cadence, known.last, zone, watching_since=known.watching_since)
        how = "on the schedule" if source.enabled else "disabled"
    next_release = ""
    if expected is not None and expected.end <= now:
        next_release = f"late: was due {expected.words(zone)}"
    elif window is not None:
        next_release = f"expected {window.words(zone)}"
    return {
        "next_run": clock.to_text(upcoming) if source.enabled and upcoming else None,
        "releases": cadence.words(),
        "next_release": next_release,
        "polling": how,
    }


def thresholds_for(config: Config, metric: str) -> list[Threshold]:
    """The levels of the rules that watch `metric`, as each rule kind draws them."""
    found = []
    for name, rule in config.rules.items():
        if not rule.watches(metric) or (drawing := rule.drawing()) is None:
            continue
        found += [Threshold(name, lvl.key, lvl.value, drawing.measure) for lvl in drawing.levels]
    return found
