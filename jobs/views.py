"""What the CLI and the web pages show that joins the config with stored data: sources
with their next run, and when a failed one is tried again; where each rule that fired
stands, with its last event."""

from dataclasses import asdict
from datetime import datetime
from typing import Any

from alerts.standing import standing
from core import clock
from core.formatting import moment
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
        row.source: {**asdict(row), "next_run": None, "retry_at": None,
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


def alert_standings(config: Config, store: Store) -> list[dict]:
    """Every rule and series that fired or said something, firing ones first, then by
    their last event: where each stands (in `standing`'s words) and what it last raised.
    The web overview lists them."""
    zone = config.settings.zone
    metrics = set(store.queries.metric_names())
    states = {(state.rule, state.series): state for state in store.alerts.states()}
    last = {(event.rule, event.series): event for event in store.queries.last_alert_events()}
    shown = [key for key, state in states.items() if state.state != "inactive" or key in last]
    shown += [key for key in last if key not in states]
    rows: list[dict[str, Any]] = []
    for rule_name, series in shown:
        rule, state = config.rules.get(rule_name), states.get((rule_name, series))
        event = last.get((rule_name, series))
        if rule is not None:
            words = standing(rule, state, lambda t: moment(t, zone)) if state else ""
        else:
            words = state.state if state else ""
        rows.append(
            {"rule": rule_name, "series": series, "words": words, "last": event,
             "firing": state is not None and state.state == "firing",
             "configured": rule is not None, "metric": series in metrics}
        )  # fmt: skip
    rows.sort(key=lambda row: row["last"].at if row["last"] else "", reverse=True)
    return sorted(rows, key=lambda row: not row["firing"])  # stable: newest first within
