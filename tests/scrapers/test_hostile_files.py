"""Hostile files beside a normal source in one crawl (issue 28): a 1.9 KB workbook whose
one cell sits at the sheet's far corner, a PDF whose stream inflates past the limit, a
PDF of too many pages. Each is read in a process of its own, under limits checked before
the memory is spent: its run is `failed` with the reason in words, and the normal source
of the same crawl is stored and alerted as if nothing had happened."""

import pytest

from scrapers.extract import Page, extract
from scrapers.extract.bounds import Limits, Unreadable
from scrapers.kinds.xlsx import XlsxSource
from storage import Store
from tests.alerts.servers import Receiver
from tests.commands import crossings
from tests.configs import TRAC_FACTS
from tests.scrapers.hostile import (
    far_corner_workbook,
    flate_bomb_pdf,
    huge_string_workbook,
    many_pages_pdf,
    workbook,
)
from tests.scrapers.pages import page_bytes
from tests.scrapers.server import Route, Site

SECRET = "hostile-files-secret"
CONFIG = (
    """[settings]
database = "crossings.db"
download_delay = 0
timeout = 5
retries = 0
parse_memory_mb = 512
max_pdf_pages = 50

"""
    + TRAC_FACTS
    + """
[sources.book]
kind = "xlsx"
url = "{url}/files/corner.xlsx"
metric = "book.{{row}}"

[sources.bomb]
kind = "pdf"
url = "{url}/files/bomb.pdf"
metric = "bomb.{{row}}"

[sources.pages]
kind = "pdf"
url = "{url}/files/pages.pdf"
metric = "pages.{{row}}"

[sources.entities]
kind = "xlsx"
url = "{url}/files/entities.xlsx"
metric = "entities.{{row}}"

[channels.hook]
kind = "webhook"
url = "{hook}"
secret_env = "CROSSINGS_TEST_HOOK_SECRET"
timeout = 5

[rules.backlog]
kind = "threshold"
description = "TRAC backlog passed 3.5 million"
metric = "trac.court.backlog"
above = 3_500_000
channels = ["hook"]
"""
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNDEFINED_ENTITY = '<row r="1"><c r="A1" t="inlineStr"><is><t>&nbsp;</t></is></c></row>'


def test_hostile_files_fail_alone_and_the_normal_source_is_stored_and_alerted(
    tmp_path, monkeypatch
):
    corner = far_corner_workbook()
    assert len(corner) < 2000
    monkeypatch.setenv("CROSSINGS_TEST_HOOK_SECRET", SECRET)
    receiver = Receiver(SECRET)
    receiver.start()
    site = Site()
    site.routes.update({
        "/quickfacts/eoir.html": Route(page_bytes("quickfacts-eoir.html")),
        "/files/corner.xlsx": Route(corner, XLSX),
        "/files/bomb.pdf": Route(flate_bomb_pdf(200), "application/pdf"),
        "/files/pages.pdf": Route(many_pages_pdf(60), "application/pdf"),
        "/files/entities.xlsx": Route(workbook(UNDEFINED_ENTITY), XLSX),
    })  # fmt: skip
    config = tmp_path / "crossings.toml"
    config.write_text(CONFIG.format(url=site.url, hook=receiver.url))
    try:
        done = crossings(config, "crawl", "facts", "book", "bomb", "pages", "entities")
    finally:
        site.close()
        receiver.stop()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "panicked" not in done.stderr
    assert "alert firing: TRAC backlog passed 3.5 million" in done.stdout
    [request] = receiver.requests
    assert request["json"]["data"]["metric"] == "trac.court.backlog"
    with Store(tmp_path / "crossings.db", read_only=True) as store:
        runs = {run["source"]: run for run in store.db.query("SELECT * FROM runs")}
        values = store.db.query("SELECT metric FROM observations")
        assert {row["metric"] for row in values} == {"trac.court.backlog"}
    assert {name: run["status"] for name, run in runs.items()} == {
        "facts": "ok", "book": "failed", "bomb": "failed", "pages": "failed",
        "entities": "broken",
    }  # fmt: skip
    declares = "the workbook declares a 16,384 × 1,048,576 sheet"  # noqa: RUF001
    assert declares in runs["book"]["reason"]
    assert "at most 2,097,152 cells are read" in runs["book"]["reason"]
    assert "inflate to more than 128 MB" in runs["bomb"]["reason"]
    assert "the PDF has 60 pages; at most 50 are read" in runs["pages"]["reason"]
    entities = runs["entities"]["reason"]
    assert "damaged" in entities and "nbsp" in entities and "bug" not in entities


def test_a_reader_past_the_memory_cap_fails_its_own_process_only():
    """What the checks let through still cannot take more than `parse_memory_mb`: a
    shared string under the unpacked limit that its reader needs several times over."""
    source = XlsxSource(name="book", url="http://127.0.0.1/a.xlsx", metric="book.{row}")
    page = Page(source.url, huge_string_workbook(250), limits=Limits(memory_mb=1024))
    with pytest.raises(Unreadable) as caught:
        extract(source, page)
    assert "needed more than the 1,024 MB it may use" in str(caught.value)
    assert "parse_memory_mb = 1,024" in str(caught.value)
