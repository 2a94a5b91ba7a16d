"""The smallest change to a broken source's block that reads its stored page again.

The page it last fetched is surveyed; then, smallest first, blocks that differ from the
configured one are tried with the kind's own extractor: header names that are gone
replaced by the closest ones now there (a renamed column), the locating keys of each
candidate of the same kind (a moved or retitled table), then its reading keys too. The
winner reads values, keeps most of the metrics stored before, and changes fewest keys."""

import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import Any

from scrapers.extract import Extraction, LayoutError, Page, extract
from scrapers.inspect.survey import Candidate, Proposal, Survey, block, make_source, survey
from scrapers.source import Source

# Keys that find the thing on the page, and keys that say how to read it, per kind.
LOCATING = ("selector", "caption", "sheet", "table_title", "page", "records")
READING = ("periods", "period_column", "month_column", "fiscal", "header_rows", "rows",
           "value", "year", "month", "period", "facts", "period_regex", "items",
           "date_selector")  # fmt: skip
HEADER_KEYS = ("columns", "period_column", "month_column", "value", "year", "month", "period")


@dataclass
class Fix:
    """What the stored page has now, and the smallest block that reads it."""

    name: str
    before: str  # the configured block
    problem: str  # why the configured block reads nothing ("" when it reads)
    survey: Survey | None = None
    after: str = ""  # the proposed block ("" when none reads)
    changed: list[str] = field(default_factory=list)  # the keys that differ
    proposal: Proposal | None = None

    @property
    def diff(self) -> str:
        """The change as a unified diff of the whole block (every line as context)."""
        before, after = self.before.splitlines(keepends=True), self.after.splitlines(keepends=True)
        whole = max(len(before), len(after))
        return "".join(difflib.unified_diff(before, after, "configured", "proposed", n=whole))


def keys_of(source: Source) -> dict[str, Any]:
    """A source's keys as its block says them: only those set away from their default."""
    said: dict[str, Any] = {}
    for item in dataclasses.fields(source):
        if item.name in ("name", "url") or item.metadata.get("toml") is False:
            continue
        value = getattr(source, item.name)
        if item.default is not dataclasses.MISSING and value == item.default:
            continue
        if item.default_factory is not dataclasses.MISSING and value == item.default_factory():
            continue
        if isinstance(value, tuple):
            value = [_table(v) for v in value]
        said[item.name] = value
    return said


def _table(value: Any) -> Any:
    """A nested key ([[sources.NAME.facts]]) as its TOML table."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: v for k, v in dataclasses.asdict(value).items() if v not in ("", ())}
    return value


def propose_fix(source: Source, page: Page, known_metrics: list[str]) -> Fix:
    keys = keys_of(source)
    before = block(source.name, source.kind, source.url, keys)
    try:
        extract(source, page)
    except LayoutError as error:
        problem = str(error)
    else:
        return Fix(source.name, before, "")
    found = survey(page, source.name.replace("-", "."))
    fix = Fix(source.name, before, problem, found)
    best: tuple[tuple[int, int], dict[str, Any], Extraction] | None = None
    for tried in _variants(keys, source.kind, found.candidates, page):
        extraction = _dry_run(source, tried, page)
        if extraction is None or not (extraction.observations or extraction.news):
            continue
        changed = [k for k in {*keys, *tried} if keys.get(k) != tried.get(k)]
        kept = len({o.metric for o in extraction.observations} & set(known_metrics))
        score = (-kept, len(changed))
        if best is None or score < best[0]:
            best = (score, tried, extraction)
    if best is None:
        return fix
    _, tried, extraction = best
    fix.after = block(source.name, source.kind, source.url, tried)
    fix.changed = sorted(k for k in {*keys, *tried} if keys.get(k) != tried.get(k))
    candidate = Candidate("the fix", source.kind, tried, page=page, url=source.url)
    fix.proposal = Proposal(source.name, candidate, None, extraction)
    return fix


def _variants(keys: dict[str, Any], kind: str, candidates: list[Candidate], page: Page):
    """Blocks to try, smallest change first."""
    renamed = _renamed(keys, _headers(kind, candidates, page))
    if renamed != keys:
        yield renamed
    for candidate in candidates:
        if candidate.kind != kind:
            continue
        located = {k: v for k, v in renamed.items() if k not in LOCATING}
        located |= {k: v for k, v in candidate.keys.items() if k in LOCATING}
        yield located
        reading = {k: v for k, v in located.items() if k not in READING}
        yield reading | {k: v for k, v in candidate.keys.items() if k in READING}
        yield reading | {k: v for k, v in candidate.keys.items() if k in READING or k == "metric"}


def _renamed(keys: dict[str, Any], headers: list[str]) -> dict[str, Any]:
    """Header names the page no longer has, replaced by the closest it has."""
    if not headers:
        return keys
    lowered = {header.lower(): header for header in headers}

    def closest(name: str) -> str:
        if name.lower() in lowered:
            return name
        holding = [h for h in lowered if name.lower() in h or h in name.lower()]
        if len(holding) == 1:  # 'total_all' -> 'total_all_detained', not 'total_other'
            return lowered[holding[0]]
        near = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.4)
        return lowered[near[0]] if near else name

    renamed = dict(keys)
    for key in HEADER_KEYS:
        value = keys.get(key)
        if isinstance(value, str) and value:
            renamed[key] = closest(value)
        elif isinstance(value, list):
            renamed[key] = [closest(name) for name in value]
    if isinstance(keys.get("filters"), dict):
        renamed["filters"] = {closest(name): wanted for name, wanted in keys["filters"].items()}
    if isinstance(keys.get("values"), dict):  # json: record keys, 'a - b' a difference
        renamed["values"] = {
            " - ".join(closest(part) for part in key.split(" - ")): metric
            for key, metric in keys["values"].items()
        }
    return renamed


def _headers(kind: str, candidates: list[Candidate], page: Page) -> list[str]:
    """Every header the page's candidates of this kind have (as their dry runs read them)."""
    names: list[str] = []
    for candidate in candidates:
        if candidate.kind != kind:
            continue
        names += [d.split(": ", 1)[1] for d in candidate.details if d.startswith("columns: ")]
        if isinstance(candidate.keys.get("values"), dict):  # json: the record keys
            names += [*candidate.keys["values"], candidate.keys.get("period", "")]
        proposal = Proposal.of(candidate, "inspect")
        if proposal.extraction is not None and proposal.extraction.layout is not None:
            for column in proposal.extraction.layout.columns:
                names += column.split(" / ")
    split = [name.strip() for joined in names for name in joined.split(", ")]
    return list(dict.fromkeys(n for n in split if n))


def _dry_run(source: Source, keys: dict[str, Any], page: Page) -> Extraction | None:
    try:
        return extract(make_source(source.kind, source.name, source.url, keys), page)
    except (LayoutError, TypeError, ValueError):
        return None
