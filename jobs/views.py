"""What the CLI and the web pages show that joins the config with stored data: sources
with their next run, and when a failed one is tried again."""

from datetime import datetime

from core import clock
from jobs.config import Config
from jobs.scheduling import polling
from jobs.scheduling.schedule import next_run, retry_at
from scrapers.source import Source
from series.releases import due, history, learn
from storage import Store

NEVER_RUN = {
    **dict.fromkeys(("title", "last_run_id", "status", "last_run", "finished_at", "reason",
                     "last_ok", "values_new", "values_revised", "values_unchanged", "news_new")),
    "runs": 0,
    "failures": 0,
    "retry_at": None,
}  # fmt: skip


def sources_overview(config: Config, store: Store, *, now: datetime) -> list[dict]:
    """Stored health of every source, with when it runs next, its release rhythm, the
    release it expects next and how it is polled. A source only in the config (never
    run) or only in the database (removed from the config) is listed too."""
    rows = {
        row["source"]: {**row, "next_run": None, "retry_at": None,
                        "schedule": "not in the config", "releases": "", "next_release": "",
                        "polling": ""}
        for row in store.queries.source_health()
    }  # fmt: skip
    budgets = polling.budgets(config.sources, config.settings.polling_budget)
    failing = store.stats.failing()
    for name, source in config.sources.items():
        row = rows.setdefault(
            name, {**NEVER_RUN, "source": name, "kind": source.kind, "url": source.url}
        )
        row["title"] = row.get("title") or source.title
        row["schedule"] = source.schedule if source.enabled else "disabled"
        row.update(_polling(config, store, source, budgets.get(name), now=now))
        if source.enabled and name in failing:
            failures, failed_at = failing[name]
            upcoming = clock.parse(row["next_run"]) if row["next_run"] else None
            retry = retry_at(failures, clock.parse(failed_at), upcoming)
            row["retry_at"] = clock.to_text(max(retry, now)) if retry else None
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
