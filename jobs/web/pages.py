"""The read-only web pages: overview, metrics with charts, alerts, news, sources and their
snapshots. Rendered on the server with Jinja2 (autoescaped: scraped text is data, never
markup); the only script is the vendored Chart.js plus a small file that feeds it.

Stored bodies are served as text/plain or as a download, sandboxed and never sniffed:
serving scraped HTML as HTML from this origin would run the scraped site's scripts."""

import asyncio
import csv
import io
import logging
import mimetypes
import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from alerts.rule import drawings_for
from alerts.standing import standing
from core.formatting import moment, number
from core.status import RunStatus
from jobs.views import alert_standings, sources_overview
from jobs.web import CONFIG
from jobs.web.fitting import breakable, time_of_day
from jobs.web.health import SCHEDULER_STATUS
from jobs.when import parse_moment
from scrapers.inspect.stored import Repair, repair
from scrapers.source import Source
from series.drawing import metric_chart
from storage import StorageError, Store

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
TEMPLATES = web.AppKey("page_templates", jinja2.Environment)
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
RAW_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
}
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
REFRESH_SECONDS = 60  # while the daemon runs, its pages reload themselves this often


def register(app: web.Application) -> None:
    """Metric pages live under /series: /metrics and /healthz belong to the daemon."""
    app[TEMPLATES] = _environment(app[CONFIG].templates)
    app.router.add_get("/", overview)
    app.router.add_get("/series", metric_index)
    app.router.add_get("/series/{name}", metric)
    app.router.add_get("/series/{name}/values.csv", metric_csv)
    app.router.add_get("/alerts", alerts)
    app.router.add_get("/news", news)
    app.router.add_get("/sources/{name}", source)
    # At most 18 digits: a larger id cannot exist (SQLite ids are 64-bit) and would not
    # even bind as a query parameter; it is a 404 like any other missing snapshot.
    app.router.add_get("/snapshots/{id:\\d{1,18}}", snapshot)
    app.router.add_get("/snapshots/{id:\\d{1,18}}/raw", snapshot_raw)
    app.router.add_static("/static", HERE / "static")


def _environment(user_templates: Path | None) -> jinja2.Environment:
    """The user's `templates/web/` overrides the packaged pages (Datasette's way)."""
    loaders: list[jinja2.BaseLoader] = []
    if user_templates is not None:
        loaders.append(jinja2.FileSystemLoader(user_templates / "web"))
    loaders.append(jinja2.FileSystemLoader(HERE / "templates"))
    environment = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True)
    environment.filters["number"] = number
    environment.filters["breakable"] = breakable
    return environment


async def _read(request: web.Request, work: Callable[[Store], Any]) -> Any:
    """Run `work` on a fresh read-only store in a thread, so a slow query never stalls
    the daemon's event loop; no database yet is a page that says so."""

    def run() -> Any:
        with Store(request.app[CONFIG].database, read_only=True) as store:
            return work(store)

    try:
        return await asyncio.to_thread(run)
    except StorageError as error:
        raise web.HTTPServiceUnavailable(
            text=_render(request, "error.html", title="No data yet", message=str(error)),
            content_type="text/html",
            headers=PAGE_HEADERS,
        ) from None


def _render(request: web.Request, template: str, **context: Any) -> str:
    """`refresh`: seconds after which the page reloads itself, when the daemon serves it
    (it keeps storing new figures); `crossings serve` alone changes nothing."""
    config = request.app[CONFIG]
    zone = config.settings.zone
    refresh = REFRESH_SECONDS if SCHEDULER_STATUS in request.app else None
    return (
        request.app[TEMPLATES]
        .get_template(template)
        .render(
            when=lambda stored: time_of_day(stored, zone),
            timezone=config.settings.timezone,
            refresh=refresh,
            **context,
        )
    )


def _page(request: web.Request, template: str, **context: Any) -> web.Response:
    return web.Response(
        text=_render(request, template, **context), content_type="text/html", headers=PAGE_HEADERS
    )


def _not_found(request: web.Request, message: str) -> web.HTTPNotFound:
    return web.HTTPNotFound(
        text=_render(request, "error.html", title="Not found", message=message),
        content_type="text/html",
        headers=PAGE_HEADERS,
    )


async def overview(request: web.Request) -> web.Response:
    config = request.app[CONFIG]

    def work(store: Store) -> dict:
        return {
            "sources": sources_overview(config, store, now=datetime.now(UTC)),
            "alerts": alert_standings(config, store),
            "changes": store.queries.latest_changes(limit=20),
        }

    return _page(request, "overview.html", **await _read(request, work))


async def metric_index(request: web.Request) -> web.Response:
    pattern = request.query.get("q", "").strip()
    rows = await _read(request, lambda store: store.queries.metric_summaries(pattern or None))
    return _page(request, "metrics.html", metrics=rows, q=pattern)


async def metric(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    name = request.match_info["name"]
    as_of_text = request.query.get("as_of", "").strip()
    problem = ""
    as_of = None
    if as_of_text:
        try:
            as_of = parse_moment(
                as_of_text, config.settings.zone, now=datetime.now(UTC), whole_day=True
            )
        except ValueError as error:
            problem = str(error)

    rules = [rule for rule in config.rules.values() if rule.watches(name)]
    zone = config.settings.zone

    def shown(stored: str) -> str:
        return moment(stored, zone)

    def work(store: Store) -> dict:
        return {
            "rows": store.queries.series_with_revisions(name, as_of=as_of),
            "revisions": store.observations.revisions(since="", metric=name),
            "entry": store.catalog.metric(name),
            "known": store.queries.has_metric(name),
            "chart": metric_chart(store, name, drawings_for(rules, name), as_of=as_of),
            "standings": [
                (rule, standing(rule, store.alerts.state(rule.name, name), shown)) for rule in rules
            ],
        }

    found = await _read(request, work)
    if not found["known"]:
        raise _not_found(request, f"No values are stored for metric {name!r}.")
    rows = found["rows"]
    return _page(
        request,
        "metric.html",
        name=name,
        entry=found["entry"],
        rows=rows,
        latest=rows[-1] if rows else None,
        revisions=found["revisions"],
        standings=found["standings"],
        chart=found["chart"].as_json(),
        as_of=as_of_text,
        problem=problem,
    )


async def metric_csv(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    rows = await _read(request, lambda store: store.queries.series_with_revisions(name))
    if not rows:
        raise _not_found(request, f"No values are stored for metric {name!r}.")
    values = [asdict(row) for row in rows]  # columns in the order the query selects them
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, list(values[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(values)
    filename = SAFE_NAME.sub("_", name) + ".csv"
    return web.Response(
        text=buffer.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **RAW_HEADERS},
    )


async def alerts(request: web.Request) -> web.Response:
    """Each configured rule has an anchor here (#rule-NAME) that other pages link to."""
    config = request.app[CONFIG]

    def work(store: Store) -> dict:
        states = store.alerts.states()
        rules = [
            {"name": name, "rule": rule,
             "firing": sum(1 for s in states if s.rule == name and s.state == "firing"),
             "resolved": sum(1 for s in states if s.rule == name and s.state == "resolved")}
            for name, rule in config.rules.items()
        ]  # fmt: skip
        return {
            "rules": rules,
            "firing": store.queries.firing_alerts(),
            "events": store.queries.alert_events(),
        }

    return _page(request, "alerts.html", **await _read(request, work))


async def news(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    text = request.query.get("q", "").strip()
    since_text = request.query.get("since", "").strip()
    problem, since = "", None
    if since_text:
        try:
            since = parse_moment(since_text, config.settings.zone, now=datetime.now(UTC))
        except ValueError as error:
            problem = str(error)
    items = await _read(
        request, lambda store: store.news.search(text or None, since=since, limit=100)
    )
    return _page(request, "news.html", items=items, q=text, since=since_text, problem=problem)


async def source(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    name = request.match_info["name"]

    def work(store: Store) -> dict:
        health = [
            row
            for row in sources_overview(config, store, now=datetime.now(UTC))
            if row["source"] == name
        ]
        broken = bool(health) and health[0]["status"] == RunStatus.BROKEN
        return {
            "health": health[0] if health else None,
            "runs": store.runs.recent(name, limit=50),
            "snapshots": store.queries.snapshots_of(name, limit=100),
            "captures": store.queries.snapshots_of(name, limit=100, archived=True),
            "repair": _repair(store, name, config.sources.get(name)) if broken else None,
        }

    found = await _read(request, work)
    if found["health"] is None:
        raise _not_found(request, f"No source named {name!r} is configured or has run.")
    return _page(request, "source.html", name=name, **found)


def _repair(store: Store, name: str, configured: Source | None) -> Repair | str | None:
    """For a broken source: what its stored page has now and the smallest fix of its
    block (read-only; the user edits the file), or why that could not be worked out."""
    if configured is None:
        return None
    try:
        return repair(store, name, configured)
    except Exception as error:  # a bug in inspecting must not take the page down
        log.exception("inspecting %s for its page failed", name)
        return f"could not inspect the stored page ({type(error).__name__}: {error})"


async def snapshot(request: web.Request) -> web.Response:
    snapshot_id = int(request.match_info["id"])

    def work(store: Store) -> dict:
        return {
            "snapshot": store.snapshots.get(snapshot_id),
            "values": store.observations.for_snapshot(snapshot_id),
        }

    found = await _read(request, work)
    if found["snapshot"] is None:
        raise _not_found(request, f"No snapshot {snapshot_id}.")
    return _page(request, "snapshot.html", **found)


async def snapshot_raw(request: web.Request) -> web.Response:
    """The stored bytes as text/plain (or a download): never as the type they came with."""
    snapshot_id = int(request.match_info["id"])

    def work(store: Store) -> tuple:
        found = store.snapshots.get(snapshot_id)
        if found is None or found.sha256 is None:
            return found, None
        return found, store.snapshots.body(found.sha256)

    found, body = await _read(request, work)
    if body is None:
        raise _not_found(request, f"Snapshot {snapshot_id} does not exist or stored no body.")
    if "download" in request.query:
        base_type = (found.content_type or "").split(";")[0].strip()
        extension = mimetypes.guess_extension(base_type) or ".bin"
        filename = f"snapshot-{snapshot_id}-{SAFE_NAME.sub('_', found.source)}{extension}"
        return web.Response(
            body=body,
            content_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{filename}"', **RAW_HEADERS},
        )
    return web.Response(
        body=body, content_type="text/plain", charset=_charset(found.content_type),
        headers=RAW_HEADERS,
    )  # fmt: skip


def _charset(content_type: str | None) -> str:
    match = re.search(r"charset=([\w.-]+)", content_type or "", re.IGNORECASE)
    return match[1] if match else "utf-8"
