"""A PDF: its pages, the tables on each with the title line above them, and the dates in
its text ("Data Generated: July 31, 2025"), proposed as `pdf` sources found by page and
title. A PDF without a text layer (a scanned image) cannot be read, and says so."""

import io
import re

import pdfplumber
from pdfplumber.utils.exceptions import PdfminerException

from scrapers.extract import Page
from scrapers.extract.grid import Cell, Grid, rectangular
from scrapers.extract.text import squash
from scrapers.inspect.cards import DATE
from scrapers.inspect.grids import shape
from scrapers.inspect.survey import Candidate, Found, InspectError

MAX_PAGES = 30  # pages read; a longer PDF is read in part and says so
WORD = re.compile(r"[A-Za-z]{2,}")


def candidates(page: Page, prefix: str) -> Found:
    with page.open() as raw:
        body = io.BytesIO(raw.read())
    try:
        document = pdfplumber.open(body)
    except PdfminerException as error:
        raise InspectError(
            f"the file at {page.url} starts like a PDF but cannot be read as one ({error})"
        ) from None
    found = Found()
    with document:
        pages = document.pages
        texts = []
        for number, pdf_page in enumerate(pages[:MAX_PAGES], start=1):
            text = pdf_page.extract_text() or ""
            texts.append(text)
            for index, table in enumerate(pdf_page.find_tables()):
                candidate = _candidate(page, prefix, pdf_page, number, index, table)
                if candidate is not None:
                    found.candidates.append(candidate)
        if not any(text.strip() for text in texts):
            raise InspectError(
                f"the PDF at {page.url} has no text layer ({len(pages)} pages of images, "
                "scanned?): crossings reads text, not pictures; look for the same figures "
                "as CSV, XLSX or HTML on the agency's site"
            )
    dates = sorted(set(re.findall(DATE, " ".join(texts))))
    found.seen.append(
        f"{len(pages)} pages" + (f", read {MAX_PAGES}" if len(pages) > MAX_PAGES else "")
        + (f"; dates in the text: {', '.join(dates[:4])}" if dates else "")
    )  # fmt: skip
    return found


def _candidate(
    page: Page, prefix: str, pdf_page, number: int, index: int, table
) -> Candidate | None:
    rows = [[Cell(squash(text or "")) for text in row] for row in table.extract()]
    if len(rows) < 2:
        return None
    read = shape(Grid(rectangular(rows), f"the table on page {number}"), prefix)
    if not read.periods or not read.numbers:
        return None
    title = _title(pdf_page, table)
    keys = {"page": number, **({"table_title": title} if title else {}), **read.keys}
    if read.periods == "columns":
        keys.pop("periods", None)
    if not title and index:
        return None  # only the page's first table is found without a title
    named = f"page {number}, table {title!r}" if title else f"page {number}, first table"
    return Candidate(f"{named}: periods in {read.periods}", "pdf", keys, read.details)


def _title(pdf_page, table) -> str:
    """The nearest line of words above the table that finds it again: the extractor reads
    the first table below the first place the title is found on the page."""
    top = table.bbox[1]
    lines = [line for line in pdf_page.extract_text_lines() if line["bottom"] <= top + 1]
    for line in sorted(lines, key=lambda line: -line["bottom"]):
        text = squash(line["text"])
        if len(WORD.findall(text)) < 3 or sum(ch.isdigit() for ch in text) > len(text) / 4:
            continue
        hits = pdf_page.search(re.escape(text), regex=True, case=False)
        if not hits:
            continue
        below = sorted((t for t in pdf_page.find_tables() if t.bbox[1] >= hits[0]["bottom"] - 1),
                       key=lambda t: t.bbox[1])  # fmt: skip
        if below and below[0].bbox == table.bbox:
            return text
    return ""
