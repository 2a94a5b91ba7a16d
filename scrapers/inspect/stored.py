"""Inspecting a configured source from what is stored (no network): its newest stored
page, what its block expected and what the page has now, and the smallest fix - with the
command that then stores its values (`reparse`). The CLI prints it; the web page of a
broken source shows it."""

from dataclasses import dataclass

from scrapers.extract import Layout, Page
from scrapers.inspect.fix import Fix, propose_fix
from scrapers.inspect.report import stored
from scrapers.recorder import LayoutChange
from scrapers.reparse import newest_body
from scrapers.source import Source
from storage import Store
from storage.snapshots import Snapshot


@dataclass
class Repair:
    snapshot: Snapshot
    fix: Fix
    reparse: str  # the command that stores the values once the block is edited

    @property
    def stored(self) -> str:
        """What the proposed block would store ('' without one)."""
        return stored(self.fix.proposal) if self.fix.proposal is not None else ""


def repair(store: Store, name: str, source: Source, program: str = "crossings") -> Repair | None:
    """None when nothing is stored for the source yet."""
    snapshot, link_text = newest_body(store, name, source)
    if snapshot is None or snapshot.sha256 is None:
        return None
    body = store.snapshots.body(snapshot.sha256)
    page = Page(snapshot.url, body, content_type=snapshot.content_type or "", link_text=link_text)
    fix = propose_fix(source, page, store.catalog.metrics_of_source(name))
    command = f"{program} reparse {name}"
    remembered = store.layouts.get(name)
    extraction = fix.proposal.extraction if fix.proposal else None
    layout = extraction.layout if extraction is not None else None
    known = Layout(remembered.columns, remembered.rows) if remembered is not None else None
    if known is not None and layout is not None and LayoutChange.between(known, layout):
        command += " --accept-layout"  # the recorder would call the new headers broken
    return Repair(snapshot, fix, command)
