"""What the CLI and the web pages show that joins the config with stored data: sources
with their next run, and when a failed one is tried again."""

from datetime import datetime

from jobs.config import Config
from jobs.schedule import next_run, retry_at
from storage import Store, clock

NEVER_RUN = {
    **dict.fromkeys(("title", "last_run_id", "status", "last_run", "finished_at", "reason",
                     "last_ok", "values_new", "values_revised", "values_unchanged", "news_new")),
    "runs": 0,
    "failures": 0,
    "retry_at": None,
}  # fmt: skip


def sources_overview(config: Config, store: Store, *, now: datetime) -> list[dict]:
    """Stored health of every source, with when the configured schedule runs it next.
    A source only in the config (never run) or only in the database (removed from the
    config) is listed too."""
    rows = {
        row["source"]: {**row, "next_run": None, "retry_at": None, "schedule": "not in the config"}
        for row in store.queries.source_health()
    }
    failing = store.stats.failing()
    for name, source in config.sources.items():
        row = rows.setdefault(
            name, {**NEVER_RUN, "source": name, "kind": source.kind, "url": source.url}
        )
        row["title"] = row.get("title") or source.title
        upcoming = next_run(source.schedule, config.settings.zone, now=now)
        row["next_run"] = clock.to_text(upcoming) if source.enabled and upcoming else None
        row["schedule"] = source.schedule if source.enabled else "disabled"
        if source.enabled and name in failing:
            failures, failed_at = failing[name]
            retry = retry_at(failures, clock.parse(failed_at), upcoming)
            row["retry_at"] = clock.to_text(max(retry, now)) if retry else None
    return [rows[name] for name in sorted(rows)]
