"""Digests: a summary of a period — each watched metric's current figure (and what a rule
on it compares now, e.g. its 7-day mean), new and revised values with their deltas,
alerts fired and resolved, new news, source health — with a chart per watched metric
(its threshold lines drawn). Rendered when queued and written to the outbox, one message per
channel: the charts travel as inline images (CID) in email, or as data: URIs in a
preview file."""

import base64
import fnmatch
import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.digest import Digest
from alerts.rule import Rule, drawings_for
from alerts.standing import rule_measures
from alerts.templates import render
from core import clock
from series.charts import png
from series.drawing import metric_chart
from storage import Store

DEFAULT_SPAN = timedelta(days=7)
MAX_CHARTS = 12
MAX_FIGURES = 50
CHART_PERIODS = 365
MAX_ARRIVALS = 20_000


@dataclass
class Chart:
    metric: str
    label: str
    png: bytes
    cid: str


@dataclass
class DigestContent:
    name: str
    title: str
    since: str
    until: str
    figures: list[dict] = field(default_factory=list)
    values: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    news: list[dict] = field(default_factory=list)
    health: list[dict] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)

    def summary(self) -> dict:
        """What webhooks receive: the counts and items, without images."""
        return {
            "digest": self.name,
            "since": self.since,
            "until": self.until,
            "figures": self.figures,
            "values": self.values,
            "events": self.events,
            "news": self.news,
            "health": self.health,
        }


def collect(
    store: Store,
    digest: Digest,
    rules: Mapping[str, Rule],
    *,
    now: datetime,
    since: datetime | None = None,
) -> DigestContent:
    """Everything since the previous digest of this name (or the last 7 days)."""
    last = store.outbox.last_digest_at(digest.name)
    start = since or (clock.parse(last) if last else now - DEFAULT_SPAN)
    since_text, until_text = clock.to_text(start), clock.to_text(now)
    title = digest.title or f"crossings {digest.name} digest, {start:%d %b} to {now:%d %b %Y}"
    content = DigestContent(digest.name, title, since_text, until_text)
    content.figures = _figures(store, digest, rules)
    content.values = _values(store, since_text, until_text)
    content.events = [
        {"kind": e.kind, "rule": e.rule, "series": e.series, "summary": e.summary, "at": e.at}
        for e in reversed(store.alerts.events(since=since_text, limit=200))
        if e.kind in ("firing", "resolved", "notice") and e.at < until_text
    ]
    content.news = [
        {"title": n.title, "url": n.url, "source": n.source, "published_at": n.published_at}
        for n in store.news.search(since=since_text, limit=50)
    ]
    content.health = [
        {k: getattr(run, k) for k in ("source", "status", "reason", "finished_at")}
        for run in store.runs.last_per_source().values()
    ]
    watched = sorted(
        {
            value["metric"]
            for value in content.values
            if any(fnmatch.fnmatchcase(value["metric"], p) for p in digest.metrics)
        }
    )
    for metric in watched[:MAX_CHARTS]:
        label = next(v["label"] for v in content.values if v["metric"] == metric)
        content.charts.append(_chart(store, metric, label, rules, len(content.charts)))
    return content


def _figures(store: Store, digest: Digest, rules: Mapping[str, Rule]) -> list[dict]:
    """Each watched metric as it stands now, whether or not it moved in the period."""
    watched = [
        row
        for row in store.queries.metric_summaries()
        if any(fnmatch.fnmatchcase(row.metric, pattern) for pattern in digest.metrics)
    ]
    return [
        {"metric": row.metric, "label": row.label or row.metric,
         "period": row.period, "value": row.value, "unit": row.unit,
         "measure": rule_measures(store, rules.values(), row.metric)}
        for row in watched[:MAX_FIGURES]
    ]  # fmt: skip


def _values(store: Store, since: str, until: str) -> list[dict]:
    """Every revision (with its delta), and per metric only its newest new value with how
    many periods arrived: a week of daily series stays one line each."""
    revised: list[dict] = []
    newest: dict[str, dict] = {}
    counts: dict[str, int] = {}
    for arrived in store.observations.arrivals(since=since, until=until, limit=MAX_ARRIVALS):
        row = asdict(arrived)
        if arrived.old_value is not None:
            revised.append({**row, "kind": "revised", "delta": arrived.value - arrived.old_value})
            continue
        counts[arrived.metric] = counts.get(arrived.metric, 0) + 1
        if arrived.metric not in newest or arrived.period > newest[arrived.metric]["period"]:
            newest[arrived.metric] = {**row, "kind": "new", "delta": None}
    values = sorted([*revised, *newest.values()], key=lambda v: (v["metric"], v["period"]))
    for value in values:
        metric = store.catalog.metric(value["metric"])
        value["label"] = (metric.label if metric else "") or value["metric"]
        value["count"] = counts.get(value["metric"], 0) if value["kind"] == "new" else 1
    return values


def _chart(store: Store, metric: str, label: str, rules: Mapping[str, Rule], index: int) -> Chart:
    drawn = metric_chart(store, metric, drawings_for(rules.values(), metric), last=CHART_PERIODS)
    drawn.title = label
    image = png(drawn)
    cid = f"chart-{index}-{hashlib.sha256(image).hexdigest()[:12]}@crossings"
    return Chart(metric, label, image, cid)


def render_digest(
    content: DigestContent, *, templates: Path | None = None, inline: bool = False
) -> tuple[str, str]:
    """(text, html). Charts are `cid:` references for email, or data: URIs (`inline`)
    for a file a browser opens."""
    sources = {
        chart.cid: (
            "data:image/png;base64," + base64.b64encode(chart.png).decode()
            if inline
            else f"cid:{chart.cid}"
        )
        for chart in content.charts
    }
    context = {"digest": content, "chart_src": sources}
    return (
        render("digest.txt", templates, **context),
        render("digest.html", templates, **context),
    )


def preview(
    store: Store,
    digest: Digest,
    rules: Mapping[str, Rule],
    *,
    now: datetime | None = None,
    templates: Path | None = None,
) -> str:
    """The digest as one self-contained HTML page (charts as data: URIs); queues nothing."""
    content = collect(store, digest, rules, now=now or datetime.now(UTC))
    return render_digest(content, templates=templates, inline=True)[1]


def queue_digest(
    store: Store,
    digest: Digest,
    rules: Mapping[str, Rule],
    *,
    now: datetime | None = None,
    templates: Path | None = None,
) -> list[int]:
    """Render the digest and write one outbox message per channel (in one transaction);
    the delivery loop sends them. Returns the new outbox ids (none if this digest was
    already queued at this minute)."""
    now = now or datetime.now(UTC)
    content = collect(store, digest, rules, now=now)
    text, html = render_digest(content, templates=templates)
    message = {
        "text": text,
        "html": html,
        "data": content.summary(),
        "images": {chart.cid: base64.b64encode(chart.png).decode() for chart in content.charts},
    }
    at, minute = clock.to_text(now), content.until[:16]
    queued = []
    with store.transaction():
        for channel in digest.channels:
            key = hashlib.sha256(f"digest|{digest.name}|{minute}|{channel}".encode()).hexdigest()
            message_id = store.outbox.enqueue(
                channel=channel, key=key[:32], subject=content.title, payload={"message": message},
                at=at, digest=digest.name,
            )  # fmt: skip
            if message_id is not None:
                queued.append(message_id)
    return queued
