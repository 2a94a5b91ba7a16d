"""Links to data files on a page (CSV, XLSX, PDF, JSON), grouped into families - the
same file renamed each release (`nationwide-encounters-fy23-fy26-nov-state.csv`,
`...-dec-state.csv`) - with the newest of each, chosen as a crawl chooses it
(`scrapers.extract.links.find_file`). A family becomes a `link` pattern; its newest file
is fetched and surveyed when picked."""

import re
from types import SimpleNamespace
from typing import cast
from urllib.parse import unquote, urljoin, urlsplit

import lxml.html

from core.periods import PeriodError, month_number
from scrapers.extract import LayoutError, Page
from scrapers.extract.links import family_name, find_file
from scrapers.inspect.survey import Candidate, Found
from scrapers.source import Source

KINDS = {"csv": "csv", "xlsx": "xlsx", "xls": "xlsx", "pdf": "pdf", "json": "json"}
DATA_FILE = re.compile(r"\.(csv|xlsx|xls|pdf|json)$", re.IGNORECASE)
TOKEN = re.compile(r"%[0-9A-Fa-f]{2}|\d+|[A-Za-z]+|.")  # %20 is a space, not a number
SHOWN = 3
SPECIAL = frozenset(".^$*+?{}[]\\|()")


def candidates(page: Page, root: lxml.html.HtmlElement) -> Found:
    families: dict[str, list[str]] = {}
    for href in root.xpath("//a/@href"):
        url = urljoin(page.url, str(href).strip())
        name = urlsplit(url).path.rsplit("/", 1)[-1]  # as find_file matches it: quoted
        if DATA_FILE.search(name):
            families.setdefault(family(name), [])
            if url not in families[family(name)]:
                families[family(name)].append(url)
    found = Found()
    found.seen.append(f"{sum(len(urls) for urls in families.values())} data links")
    for pattern, urls in families.items():
        extension = pattern.rsplit(".", 1)[-1].rstrip("$").lower()
        probe = cast(Source, SimpleNamespace(name="inspect", file_link=pattern))
        try:
            newest = find_file(probe, page)
        except LayoutError:  # the pattern misses its own links: no family to propose
            continue
        what = (
            f"{len(urls)} link{'s' if len(urls) > 1 else ''} to {extension.upper()} files; "
            f"newest: {unquote(newest.url.rsplit('/', 1)[-1])!r}"
        )
        details = [f"link = '{pattern}'", f"newest: {newest.url} ({newest.text!r})"]
        others = [url for url in urls if url != newest.url]
        details += [f"also: {unquote(url.rsplit('/', 1)[-1])}" for url in others[:SHOWN]]
        candidate = Candidate(what, KINDS[extension], {"link": pattern}, details)
        candidate.follow, candidate.follow_text = newest.url, newest.text
        found.candidates.append(candidate)
    return found


def family(name: str) -> str:
    """The pattern a file's name shares with its other releases: numbers and month names
    vary, a re-upload suffix (`_0`) may be added; anchored after a '/'."""
    stem, _, extension = family_name(name).rpartition(".")  # ...-aug-aor_0.csv: -aor.csv
    parts = []
    for token in TOKEN.findall(stem):
        if token.startswith("%"):
            parts.append(token)
        elif token.isdigit():
            parts.append(r"\d+")
        elif _is_month(token):
            parts.append("[A-Za-z]+")
        else:
            parts.append(_literal(token))
    return "/" + "".join(parts) + rf"(?:_\d)?\.{_literal(extension)}$"


def _literal(token: str) -> str:
    """A token as it reads in a regex: only what regexes use is escaped (not '-')."""
    return "".join("\\" + char if char in SPECIAL else char for char in token)


def _is_month(token: str) -> bool:
    if len(token) < 3:
        return False
    try:
        month_number(token)
    except (PeriodError, ValueError):
        return False
    return True
