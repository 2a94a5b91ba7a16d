"""Finding the file a streamed source reads on its landing page: the newest of the family
of links whose address matches the source's `file_link` (CBP and ICE rename their files
every release, and re-upload some as `name_0.csv`, `name_1.csv`).

`newest` is the one place that knows what makes a file newer (the date folder in its
path, a date or month word in its name, a re-upload suffix), so that `crossings inspect`
and the spider agree; when the page holds a file that looks newer than the one chosen
but is not of its family, `find_file` says so instead of going stale in silence."""

import re
from typing import NamedTuple
from urllib.parse import unquote, urljoin, urlsplit

from parsel import Selector

from core.checked import compiled
from core.periods import MONTHS, PeriodError, month_number
from scrapers.extract import LayoutError, Page
from scrapers.extract.text import squash
from scrapers.source import Source

# A year-month in a file's address: CBP files sit in folders like /2025-09/ or /2023-Nov/.
URL_DATE = re.compile(r"(20\d\d)[-_/]?(0[1-9]|1[0-2]|[A-Za-z]{3})\b")
# A month-day-year in a file name: ICE's FY26_detentionStats_02122026.xlsx.
US_DATE = re.compile(r"(?<!\d)(0[1-9]|1[0-2])([0-3]\d)(20\d\d)(?!\d)")
# A re-upload: CBP's CMS adds _0, _1, ... before the extension of a file uploaded again.
REUPLOAD = re.compile(r"_(\d{1,2})(?=\.[A-Za-z0-9]{2,5}$)")
# The last fiscal year a file covers and a month word: ...-fy23-fy26-aug-aor.csv.
FISCAL_END = re.compile(r"fy(\d\d)(?!.*fy\d\d)", re.IGNORECASE)
MONTH_WORD = re.compile(r"(?<![A-Za-z])([A-Za-z]{3,9})(?![A-Za-z])")
EXTENSION = re.compile(r"\.([A-Za-z0-9]{2,5})$")


class Link(NamedTuple):
    url: str
    text: str  # the link's text, squashed (the as-of date may be there)
    newer: str | None = None  # a file on the page that looks newer but is not of the family


def find_file(source: Source, page: Page) -> Link:
    """The newest link on the landing page whose address (re-upload suffix left out)
    matches `link`; a file linked twice counts once. With a note when another file of the
    same type on the page looks newer than the one chosen."""
    anchors = Selector(text=page.text).css("a[href]")
    pattern = compiled(source.file_link)
    everything: dict[str, str] = {}
    for anchor in anchors:
        href = urljoin(page.url, (anchor.attrib.get("href") or "").strip())
        if not everything.get(href):
            everything[href] = squash(" ".join(anchor.css("::text").getall()))
    family = [url for url in everything if pattern.search(family_name(url))]
    if not family:
        raise LayoutError(
            f"{source.name}: expected a link matching {pattern.pattern!r} at {page.url}, found "
            f"none among {len(anchors)} links"
        )
    url = newest(family)
    return Link(url, everything[url], _newer_elsewhere(source, url, everything))


def family_name(url: str) -> str:
    """The address without a re-upload suffix: `…-aug-aor_0.csv` is of the `-aor.csv` family."""
    return REUPLOAD.sub("", url)


def newest(urls: list[str]) -> str:
    """The newest address: by its date (a date in the file name, else the date folder),
    then the last fiscal year and month word in the name, then the re-upload suffix; the
    first on the page when nothing tells them apart."""

    def rank(index: int) -> tuple[int, ...]:
        return (*file_date(urls[index]), _reupload(urls[index]), -index)

    return urls[max(range(len(urls)), key=rank)]


def file_date(url: str) -> tuple[int, int, int, int, int]:
    """How new a file looks from its address: (year, month, day) from a date in its name or
    its date folder, then the last fiscal year and the fiscal month its name mentions."""
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    fiscal = FISCAL_END.search(name)
    months = [MONTHS[word.lower()] for word in MONTH_WORD.findall(name) if word.lower() in MONTHS]
    words = (int(fiscal.group(1)) if fiscal else 0, (months[-1] + 2) % 12 if months else -1)
    if match := US_DATE.search(name):
        return (int(match.group(3)), int(match.group(1)), int(match.group(2)), *words)
    match = URL_DATE.search(url)
    if not match:
        return (0, 0, 0, *words)
    month = match.group(2)
    try:
        number = int(month) if month.isdigit() else month_number(month)
    except PeriodError:
        number = 0
    return (int(match.group(1)), number, 0, *words)


def _reupload(url: str) -> int:
    match = REUPLOAD.search(url)
    return int(match.group(1)) + 1 if match else 0


def _newer_elsewhere(source: Source, chosen: str, links: dict[str, str]) -> str | None:
    """A sentence naming the newest-looking file of the chosen one's type that the link
    pattern left out, if it looks newer than the chosen one."""
    kind = EXTENSION.search(urlsplit(chosen).path)
    if kind is None:
        return None
    others = [
        url
        for url in links
        if url != chosen
        and (found := EXTENSION.search(urlsplit(url).path))
        and found.group(1).lower() == kind.group(1).lower()
        and file_date(url) > file_date(chosen)
    ]
    if not others:
        return None
    other = newest(others)
    return (
        f"{source.name}: chose {_name(chosen)} (link {source.file_link!r}), but the page also "
        f"holds {_name(other)}, which looks newer; if it is the same series, widen `link`"
    )


def _name(url: str) -> str:
    path = unquote(urlsplit(url).path)
    return "/".join(path.rsplit("/", 2)[-2:])
