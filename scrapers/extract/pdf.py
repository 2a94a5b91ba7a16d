"""The `pdf` extractor (pdfplumber): a table found on a page below its title, read by
`grid` like an HTML table; or single figures found by regex in the page text."""

import io
import re

import pdfplumber
from pdfplumber.utils.exceptions import PdfminerException

from core.checked import compiled
from scrapers.extract import Extraction, LayoutError, Page
from scrapers.extract.asof import find_as_of
from scrapers.extract.bounds import check_pages, check_pdf
from scrapers.extract.grid import Cell, Grid, read, rectangular
from scrapers.extract.text import shown, squash
from scrapers.kinds.pdf import PdfSource
from scrapers.numbers import NumberError, parse_number
from storage import Observation


def extract(source: PdfSource, page: Page) -> Extraction:
    with page.open() as raw:
        data = raw.read()  # a PDF is read by seeking; a stored body streams
        what = f"{source.name}: {page.url}"
        check_pdf(data, page.limits, what)
        body = io.BytesIO(data)
        try:
            document = pdfplumber.open(body)
        except PdfminerException as error:
            raise LayoutError(
                f"{source.name}: expected a PDF at {page.url}, but it cannot be read as one "
                f"({type(error).__name__}: {error})"
            ) from None
        with document:
            check_pages(_page_count(document), page.limits, what)
            pages = document.pages
            if source.page > len(pages):
                raise LayoutError(
                    f"{source.name}: expected a page {source.page} in the PDF at {page.url}, "
                    f"it has {len(pages)}"
                )
            chosen = [pages[source.page - 1]] if source.page else pages
            texts = [squash(p.extract_text() or "") for p in chosen]
            as_of = find_as_of(source, page, lambda: " ".join(texts))
            if source.figures:
                return _figures(source, page, " ".join(texts), as_of)
            return _table(source, page, chosen, as_of)


def _page_count(document: pdfplumber.PDF) -> int:
    """The pages the document's page tree declares, read before its pages are walked."""
    from pdfminer.pdftypes import resolve1

    try:
        return int(resolve1(resolve1(document.doc.catalog["Pages"])["Count"]))
    except (KeyError, TypeError, ValueError):
        return len(document.pages)


def _figures(source: PdfSource, page: Page, text: str, as_of) -> Extraction:
    extraction = Extraction()
    missing = []
    for figure in source.figures:
        match = compiled(figure.regex).search(text)
        if match is None:
            missing.append(figure.regex)
            continue
        raw = match.group(1) if match.groups() else match.group(0)
        around = _around(text, match)
        try:
            number = parse_number(raw)
        except NumberError:
            raise LayoutError(
                f"{source.name}: {figure.metric}: expected a number where {figure.regex!r} "
                f"matched in the PDF at {page.url}, found {raw!r} in {around!r}"
            ) from None
        if number.value is None:
            continue
        if _on_an_axis(number.value, text):
            raise LayoutError(
                f"{source.name}: {figure.metric}: {figure.regex!r} matched {raw!r} in the PDF "
                f"at {page.url}, a round number in a run of evenly spaced ones (a chart's "
                f"axis?), not a figure: {around!r}; anchor the regex on the table's words or "
                "read the table (metric, table_title)"
            )
        extraction.add(
            Observation(figure.metric, as_of.text, number.value, number.unit or figure.unit,
                        tuple(dict.fromkeys([*as_of.flags, *number.flags]))),
            label=figure.label,
            source=source.name,
        )  # fmt: skip
    if missing:
        raise LayoutError(
            f"{source.name}: expected text matching {shown(missing)} in the PDF at {page.url}, "
            f"found none; the text begins {text[:200]!r}"
        )
    return extraction


NUMBERS = re.compile(r"(?<![\d,.])\d{1,3}(?:,\d{3})+(?![\d,])|(?<![\d,.])\d+(?![\d,.])")


def _on_an_axis(value: float, text: str) -> bool:
    """A round number (100 or more, ending in 00) with one step below and one step above
    it also printed on the page, as a chart's axis labels are (3,000,000 3,500,000
    4,000,000): the match met the axis, not the figure."""
    if value < 100 or value % 100:
        return False
    printed = {float(found.replace(",", "")) for found in NUMBERS.findall(text)}
    rounds = {number for number in printed if number >= 100 and not number % 100}
    return any(
        value - step in rounds and value + step in rounds
        for step in (abs(value - other) for other in rounds if other != value)
    )


def _around(text: str, match: re.Match[str], width: int = 60) -> str:
    """The words around a match, for a reason a user can check against the page."""
    return text[max(0, match.start() - width) : match.end() + width]


def _table(source: PdfSource, page: Page, chosen: list, as_of) -> Extraction:
    seen: list[str] = []
    for number, pdf_page in enumerate(chosen, start=1):
        tables = pdf_page.find_tables()
        if not tables:
            continue
        top = 0.0
        if source.table_title:
            hits = pdf_page.search(re.escape(source.table_title), regex=True, case=False)
            if not hits:
                seen.append(f"page {source.page or number}: {len(tables)} tables")
                continue
            top = hits[0]["bottom"]
        below = sorted((t for t in tables if t.bbox[1] >= top - 1), key=lambda t: t.bbox[1])
        if not below:
            continue
        rows = [[Cell(squash(text or "")) for text in row] for row in below[0].extract()]
        where = f"the table on page {source.page or number} of {page.url}"
        if source.table_title:
            where = (
                f"the table {source.table_title!r} on page {source.page or number} of {page.url}"
            )
        return read(source, Grid(rectangular(rows), where), as_of)
    what = f"a table titled {source.table_title!r}" if source.table_title else "a table"
    raise LayoutError(
        f"{source.name}: expected {what} in the PDF at {page.url}, found "
        f"{'; '.join(seen) or 'no table on the pages read'}"
    )
