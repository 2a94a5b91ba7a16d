"""How much a downloaded file may cost to read, checked before the memory is spent.

A 1.9 KB workbook can declare a cell at the sheet's far corner (XFD1048576), and its
reader would then allocate the whole rectangle (512 GiB); a 1 MB workbook or PDF can
inflate to gigabytes. `max_body_mb` bounds only the download, so the formats that unpack
are measured here first, by streaming through them with a counter, and a file past a
limit is refused with a reason in words (`Unreadable`: the run is `failed`). Every limit
derives from `[settings]` (`Limits.of`); docs/configuration.md states them. Whatever
these checks miss, the process the file is read in (scrapers.extract.isolated) has a
memory and CPU cap of its own."""

import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from core.errors import CrossingsError

if TYPE_CHECKING:
    from scrapers.fetching import FetchSettings

MB = 1 << 20
CHUNK = 1 << 20
BYTES_PER_CELL = 256  # what one cell of a sheet costs to hold, read as Python values


class Unreadable(CrossingsError):
    """The file cannot be read within the limits, or its reader crashed: the run is
    `failed` with this reason (a broken layout is a LayoutError, `broken`)."""


@dataclass(frozen=True)
class Limits:
    """What reading one downloaded file may cost (defaults: those of [settings])."""

    memory_mb: int = 2048  # the address space of the process the file is read in
    cpu_seconds: int = 300  # its CPU time
    pdf_pages: int = 1000  # pages of a PDF

    @classmethod
    def of(cls, settings: "FetchSettings") -> "Limits":
        return cls(settings.parse_memory_mb, settings.parse_cpu_seconds, settings.max_pdf_pages)

    @property
    def unpacked_bytes(self) -> int:
        """The parts of a workbook together, or a PDF's inflated streams: a quarter of
        the memory (a reader holds a part several times over while it decodes it)."""
        return self.memory_mb * MB // 4

    @property
    def cells(self) -> int:
        """The cells of the sheet read (its rectangle from A1 to its last cell)."""
        return self.memory_mb * MB // BYTES_PER_CELL

    def says(self) -> str:
        return f"parse_memory_mb = {self.memory_mb:,} in [settings]"


# -- workbooks ------------------------------------------------------------------------

# A <row> or <c> start tag, with or without a namespace prefix; its attributes; and
# whether it closes itself (an empty, styled cell holds nothing and is not read).
TAG = re.compile(rb"<(?:\w+:)?(row|c)\b([^>]*?)(/?)>")
REF = re.compile(rb'\br="([A-Z]{0,3})(\d*)"')


def check_workbook(raw: IO[bytes], limits: Limits, what: str) -> None:
    """Raise Unreadable when the workbook's parts unpack past the limit, or a sheet's
    rectangle (from A1 to its last filled cell) holds more cells than may be read."""
    try:
        archive = zipfile.ZipFile(raw)
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip: the reader says so in its own words
    with archive:
        declared = sum(info.file_size for info in archive.infolist())
        if declared > limits.unpacked_bytes:
            raise Unreadable(
                f"{what}: the workbook unpacks to {declared / MB:,.0f} MB; at most "
                f"{limits.unpacked_bytes / MB:,.0f} MB are read ({limits.says()})"
            )
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        for name in sheets:
            _check_sheet(archive, name, limits, what)


def _check_sheet(archive: zipfile.ZipFile, name: str, limits: Limits, what: str) -> None:
    """Stream the sheet's XML (never more than its declared size, which the archive's
    reader enforces) and find its last row and column."""
    rows = columns = row = column = 0
    tail = b""
    with archive.open(name) as part:
        while chunk := part.read(CHUNK):
            text = tail + chunk
            cut = text.rfind(b"<")
            text, tail = (text[:cut], text[cut:]) if cut > 0 else (text, b"")
            for kind, attributes, empty in TAG.findall(text):
                ref = REF.search(attributes)
                if kind == b"row":
                    row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                    column = 0
                    continue
                if ref and ref.group(1):
                    column = _column_number(ref.group(1))
                    row = int(ref.group(2) or row)
                else:
                    column += 1
                if not empty:
                    rows, columns = max(rows, row), max(columns, column)
            if len(tail) > CHUNK:  # one tag longer than a megabyte: not a sheet we read
                tail = b""
    if rows * columns > limits.cells:
        raise Unreadable(
            f"{what}: the workbook declares a {columns:,} × {rows:,} sheet "  # noqa: RUF001
            f"({name.rsplit('/', 1)[-1]}, {rows * columns:,} cells); at most "
            f"{limits.cells:,} cells are read ({limits.says()})"
        )


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - ord("A") + 1
    return number


# -- PDFs -----------------------------------------------------------------------------

STREAM = re.compile(rb"/FlateDecode.{0,400}?stream\r?\n", re.DOTALL)


def check_pdf(body: bytes, limits: Limits, what: str) -> None:
    """Raise Unreadable when the PDF's deflated streams together inflate past the limit,
    counted a chunk at a time (never holding more than a chunk of inflated data)."""
    left = limits.unpacked_bytes
    for match in STREAM.finditer(body):
        left -= _inflated_size(memoryview(body)[match.end() :], left)
        if left < 0:
            raise Unreadable(
                f"{what}: the PDF's compressed streams inflate to more than "
                f"{limits.unpacked_bytes / MB:,.0f} MB; at most that is read ({limits.says()})"
            )


def _inflated_size(data: memoryview, most: int) -> int:
    """What the deflate stream at the start of `data` inflates to, counted up to past
    `most`; a damaged stream counts as far as it goes (pdfminer then has its own words)."""
    inflater = zlib.decompressobj()
    size = 0
    try:
        for start in range(0, len(data), CHUNK):
            pending = bytes(data[start : start + CHUNK])
            while pending and not inflater.eof:
                size += len(inflater.decompress(pending, CHUNK))
                pending = inflater.unconsumed_tail
                if size > most:
                    return size
            if inflater.eof:
                break
    except zlib.error:
        pass
    return size


def check_pages(count: int, limits: Limits, what: str) -> None:
    if count > limits.pdf_pages:
        raise Unreadable(
            f"{what}: the PDF has {count:,} pages; at most {limits.pdf_pages:,} are read "
            f"(max_pdf_pages in [settings])"
        )
