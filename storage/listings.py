"""What the read-only listings (`Queries`) answer: one frozen record per kind of row, so
the CLI, the web pages and the digests read named fields, not dict keys. Each record's
fields are the columns its query selects, in that order (`--csv` and `--json` print them
so)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceHealth:
    """A source (from the config or its runs), its last run, last success and failures.
    The last run's fields are None for a source that never ran."""

    source: str
    kind: str
    title: str
    url: str
    last_run_id: int | None
    status: str | None
    last_run: str | None
    finished_at: str | None
    reason: str | None
    last_ok: str | None
    runs: int
    failures: int
    values_new: int | None
    values_revised: int | None
    values_unchanged: int | None
    news_new: int | None


@dataclass(frozen=True)
class Fetched:
    """One stored fetch of a source, with the run that made it; a capture read from a web
    archive names the archive and the capture's timestamp (None: a live fetch)."""

    id: int
    run_id: int | None
    url: str
    fetched_at: str
    http_status: int
    content_type: str | None
    size: int
    sha256: str | None
    archive: str | None
    archive_timestamp: str | None


@dataclass(frozen=True)
class ArchiveRead:
    """What `crossings backfill` read of a source from one web archive."""

    source: str
    archive: str
    captures: int
    first_capture: str
    last_capture: str


@dataclass(frozen=True)
class MetricSummary:
    """A metric's latest value, the change from the period before (None: no period
    before, or no value), when it was last confirmed and how often it was revised."""

    metric: str
    label: str
    period: str
    value: float
    unit: str
    previous_period: str | None
    previous_value: float | None
    change: float | None
    change_pct: float | None
    as_of: str
    revisions: int
    source: str
    snapshot_id: int | None


@dataclass(frozen=True)
class RevisedValue:
    """A value of a series with how many times it was revised and the value it replaced."""

    period: str
    value: float
    unit: str
    flags: str
    revisions: int
    replaced_value: float | None
    first_seen: str
    last_seen: str
    snapshot_id: int | None


@dataclass(frozen=True)
class LatestChange:
    """A value newly stored (`change` 'new') or revised, with the value it replaced."""

    metric: str
    period: str
    value: float
    previous_value: float | None
    change: str
    at: str
    snapshot_id: int | None


@dataclass(frozen=True)
class Exported:
    """A current value as an export writes it."""

    metric: str
    period: str
    value: float
    unit: str
    flags: str
    first_seen: str
    last_seen: str
    snapshot_id: int | None


@dataclass(frozen=True)
class FiringAlert:
    """A rule and series firing now, since when, and when it last notified."""

    rule: str
    series: str
    state: str
    since: str
    value: float | None
    period: str | None
    last_notified_at: str | None


@dataclass(frozen=True)
class EventLine:
    """An alert event as the history lists it: where its notices went (`delivery`, None:
    nowhere) and whether it was silenced (0 or 1, as stored)."""

    id: int
    rule: str
    series: str
    kind: str
    at: str
    period: str | None
    summary: str
    silenced: int
    delivery: str | None


@dataclass(frozen=True)
class LastEvent:
    """The newest event of a rule and series."""

    rule: str
    series: str
    kind: str
    at: str
    period: str | None
    summary: str
