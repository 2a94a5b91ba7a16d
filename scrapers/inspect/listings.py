"""News listings: a list whose items each hold a link (TRAC's What's New), with a date
beside it when there is one, proposed as a `listing` source; the dry run shows its first
items. Navigation menus are passed over: their items are short and undated."""

import lxml.html
from lxml.cssselect import CSSSelector

from scrapers.extract import Page
from scrapers.extract.listing import DATE_IN_TEXT
from scrapers.extract.text import squash
from scrapers.inspect.links import DATA_FILE
from scrapers.inspect.paths import css_path
from scrapers.inspect.survey import Candidate, Found

ITEMS = 3  # at least this many linked items make a listing
SHOWN = 3
SKIPPED = frozenset({"nav", "header", "footer"})


def candidates(page: Page, root: lxml.html.HtmlElement) -> Found:
    found = Found()
    for container in root.iter("ul", "ol"):
        items = [li for li in container if li.tag == "li" and li.find(".//a[@href]") is not None]
        if len(items) < ITEMS or any(a.tag in SKIPPED for a in container.iterancestors()):
            continue
        hrefs = [li.find(".//a[@href]").get("href") or "" for li in items]
        if sum(bool(DATA_FILE.search(href.split("?")[0])) for href in hrefs) > len(items) / 2:
            continue  # links to data files: a family of files (scrapers.inspect.links)
        titles = [squash(li.find(".//a[@href]").text_content()) for li in items]
        dated = [_date_element(li) for li in items]
        long = sum(len(title.split()) >= 4 for title in titles) >= len(items) / 2
        if sum(element is not None for element in dated) < len(items) / 2 and not (
            long and len(items) >= 5
        ):
            continue  # a menu or a few related links: undated
        keys = {"items": _items_selector(container)}
        date_classes = {element.get("class") for element in dated if element is not None}
        if len(date_classes) == 1 and (date_class := date_classes.pop()):
            keys["date_selector"] = "." + date_class.split()[0]
        details = [f"item: {title!r}" for title in titles[:SHOWN]]
        found.candidates.append(
            Candidate(f"a listing of {len(items)} linked items", "listing", keys, details)
        )
    return found


def _date_element(item: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    for element in item.iter():
        if element.tag != "a" and DATE_IN_TEXT.search(squash(element.text or "")):
            return element
    return None


def _items_selector(container: lxml.html.HtmlElement) -> str:
    """`ul.whatsnew > li` by the list's class or id when that finds this list's items
    only, else its path."""
    root = container.getroottree().getroot()
    tried = []
    if container.get("id"):
        tried.append(f"#{container.get('id')} > li")
    if classes := (container.get("class") or "").split():
        tried.append(f"{container.tag}.{classes[0]} > li")
    for selector in tried:
        if all(item.getparent() is container for item in CSSSelector(selector)(root)):
            return selector
    return f"{css_path(container)} > li"
