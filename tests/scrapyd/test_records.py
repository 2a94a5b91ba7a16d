"""Records, the form a crawl on a node hands back its results in: ingested through the
local Recorder, one transaction per run, only into a run still open (a feed ingested
twice changes nothing), never a run cut off mid-source; large bodies and bad records; a
table held to its remembered layout in the daemon, as a local crawl is."""

import io
import json
import os

import pytest

from scrapers.extract import Extraction, Layout
from scrapers.items import Fetched
from scrapers.kinds.feed import FeedSource
from scrapers.kinds.table import TableSource
from scrapers.recorder import Fetch, SourceRun
from scrapers.records import FORMAT, RecordError, ingest, read_lines, record
from storage import NewsItem, Observation
from storage.snapshots import BodyFile

SOURCES = {name: FeedSource(name=name, url=f"http://127.0.0.1/{name}") for name in ("a", "b")}
PAGE = b"<html>" + b"a table " * 200 + b"</html>"


def open_run(store, name: str, sources=SOURCES) -> SourceRun:
    run_id = store.runs.start(name, trigger="schedule", pid=os.getpid())
    return SourceRun(name=name, source=sources[name], run_id=run_id, trust_cache=True)


def page_records(run: SourceRun, *, value: float = 1234.0) -> list[dict]:
    """A source's fetch with its values, then its outcome, as a node writes them."""
    extraction = Extraction(news=[NewsItem(run.name, "guid-1", "A title", "https://x/1")])
    extraction.add(
        Observation("m.cases", "FY2024", value, "cases", ("partial",)), "Cases", run.name
    )
    fetch = Fetch(f"http://127.0.0.1/{run.name}", 200, PAGE, '"e1"', None, "text/html")
    run.requests, run.bytes = 1, len(PAGE)
    return [
        record(Fetched(run, fetch, extraction)),
        record(Fetched(run, status="ok")),
    ]


def through_json(records: list[dict]) -> list[dict]:
    """What the daemon reads back from a node's feed."""
    text = "".join(json.dumps(each) + "\n" for each in records).encode()
    return list(read_lines(io.BytesIO(text)))


def test_a_feed_is_stored_like_a_local_crawl_and_ingesting_it_again_changes_nothing(store):
    run = open_run(store, "a")
    records = through_json(page_records(run))

    done = ingest(store, SOURCES, records)
    assert done.stored == (run.run_id,)
    row = store.runs.get(run.run_id)
    assert (row.status, row.values_new, row.news_new, row.requests) == ("ok", 1, 1, 1)
    [point] = store.observations.series("m.cases")
    assert (point.value, point.unit, point.flags) == (1234.0, "cases", ("partial",))
    snapshot = store.snapshots.get(point.snapshot_id)
    assert store.snapshots.body(snapshot.sha256) == PAGE
    assert snapshot.etag == '"e1"'
    assert [item.title for item in store.news.search(source="a")] == ["A title"]
    assert store.catalog.metric("m.cases").label == "Cases"

    before = store.snapshots.counts(), store.observations.history("m.cases", "FY2024")
    again = ingest(store, SOURCES, records)
    assert again.stored == () and again.already_closed == (run.run_id,)
    assert (store.snapshots.counts(), store.observations.history("m.cases", "FY2024")) == before


def test_a_run_cut_off_mid_source_is_not_ingested_and_another_in_the_feed_is(store):
    cut, whole = open_run(store, "a"), open_run(store, "b")
    records = page_records(cut)[:1] + page_records(whole, value=7.0)
    # a node killed while writing leaves half a line: the feed ends there
    text = "".join(json.dumps(each) + "\n" for each in records).encode() + b'{"format": 1, "ru'

    done = ingest(store, SOURCES, read_lines(io.BytesIO(text)))
    assert done.stored == (whole.run_id,)
    assert store.runs.get(cut.run_id).status == "running"  # the runner closes it, with why
    assert [point.value for point in store.observations.series("m.cases")] == [7.0]
    assert store.snapshots.counts()["snapshots"] == 1


def test_a_streamed_body_travels_compressed_and_is_stored_whole(store):
    run = open_run(store, "a")
    body_file = BodyFile()
    big = b"date,value\n" + b"2024-01-01,1\n" * 800_000  # ~10 MB: unpacked to a file, not memory
    body_file.write(big)
    fetch = Fetch("http://127.0.0.1/a.csv", 200, None, None, None, "text/csv")
    records = through_json([record(Fetched(run, fetch, body_file=body_file, status="unchanged"))])
    assert len(records[0]["fetch"]["body"]) < len(big) / 10

    ingest(store, SOURCES, records)
    [snapshot] = store.snapshots.for_source("a")
    with store.snapshots.open_body(snapshot.sha256) as stored:
        assert stored.read() == big
    assert store.runs.get(run.run_id).status == "unchanged"


def test_a_record_that_cannot_be_stored_fails_its_run_with_the_reason(store):
    run = open_run(store, "a")
    records = through_json(page_records(run))
    records[0]["extraction"]["observations"][0].pop()  # a broken record: one field short

    ingest(store, SOURCES, records)
    row = store.runs.get(run.run_id)
    assert row.status == "failed"
    assert row.reason.startswith("a: could not store the node's results: ")
    assert store.snapshots.counts()["snapshots"] == 0  # nothing half-stored


def test_records_of_another_format_are_refused_with_what_to_do(store):
    run = open_run(store, "a")
    records = through_json(page_records(run))
    records[0]["format"] = FORMAT + 1
    with pytest.raises(RecordError, match="run `crossings deploy`"):
        ingest(store, SOURCES, records)
    assert store.snapshots.counts()["snapshots"] == 0


def table_records(run: SourceRun, columns: tuple[str, ...], notes: list[str]) -> list[dict]:
    """A table's fetch, with the layout and notes the node read, then its outcome."""
    extraction = Extraction(layout=Layout(columns, ("Encounters",)), notes=notes)
    extraction.add(Observation("t.encounters", "FY2024", 10.0, "count"), "Encounters", run.name)
    fetch = Fetch(f"http://127.0.0.1/{run.name}", 200, PAGE + run.name.encode(), None, None, None)
    return through_json(
        [record(Fetched(run, fetch, extraction)), record(Fetched(run, status="ok"))]
    )


def test_a_table_fed_back_from_a_node_is_held_to_its_remembered_layout(store):
    tables = {name: TableSource(name=name, url=f"http://127.0.0.1/{name}", metric="t.{row}")
              for name in ("t",)}  # fmt: skip
    first = open_run(store, "t", tables)
    ingest(store, tables, table_records(first, ("Year", "Cases"), ["2 cells were empty"]))
    row = store.runs.get(first.run_id)
    assert (row.status, row.reason) == ("ok", "2 cells were empty")
    assert store.layouts.get("t").columns == ("Year", "Cases")

    renamed = open_run(store, "t", tables)
    ingest(store, tables, table_records(renamed, ("Year", "Total"), []))
    row = store.runs.get(renamed.run_id)
    assert row.status == "broken"
    assert "column 'Cases' is gone" in row.reason and "--accept-layout" in row.reason
    assert store.runs.get(renamed.run_id).values_new == 0
