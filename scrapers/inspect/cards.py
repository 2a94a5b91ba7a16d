"""Figure cards: headline numbers on a page ("3,546,863 active cases were pending ...
Data current as of May 31, 2025"), each with the words and the date around it, proposed
as one `facts` source whose selectors find each card by its words or permalink."""

import re

import lxml.html
from parsel import Selector

from scrapers.extract import Page
from scrapers.extract.facts import select, text_of
from scrapers.extract.text import slug, squash
from scrapers.inspect.survey import Candidate, Found
from scrapers.kinds.facts import DATA_CURRENT

FIGURE = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+|\d{5,}|\d{1,3}(?:\.\d+)?%")
DATE = r"[A-Z][a-z]+\.? \d{1,2},? \d{4}|\d{1,2}/\d{1,2}/\d{4}"
AS_OF = rf"(?:[Aa]s of|[Uu]pdated|[Gg]enerated):?\s+({DATE})"
SKIPPED = frozenset({"table", "script", "style", "a", "option", "nav", "select", "head"})
WORDS = re.compile(r"[A-Za-z][A-Za-z-]+")
CARD_TEXT = 600  # characters: a card is a small block, not the page


def candidates(page: Page, root: lxml.html.HtmlElement, prefix: str) -> Found:
    figures = [element for element in root.iter() if _is_figure(element)]
    found = Found()
    if not figures:
        return found
    facts, undated = [], 0
    regexes: set[str] = set()
    details: list[str] = []
    parsed = Selector(text=page.text)
    names: set[str] = set()
    for element in figures:
        card = _card(element, figures)
        if card is None:
            continue
        figure = squash(element.text_content())
        words = squash(card.text_content().replace(figure, " ", 1))
        regex = _date_regex(words) or _date_regex(squash(root.text_content()))
        if regex is None:
            undated += 1
            continue
        selector, card_selector = _selectors(element, card)
        nodes = select(parsed, selector)
        if not nodes or text_of(nodes[:1]) != figure:
            continue
        regexes.add(regex)
        metric = _metric(prefix, words, names)
        facts.append({"metric": metric, "selector": selector, "card": card_selector})
        date = re.search(regex, words) or re.search(regex, squash(root.text_content()))
        details.append(f"{figure}: {words[:90]!r} (as of {date.group(1) if date else '?'})")
    if undated:
        found.seen.append(f"{undated} headline numbers with no 'as of' date near them")
    if not facts:
        return found
    keys: dict = {"facts": facts}
    if regexes != {DATA_CURRENT}:
        keys["period_regex"] = sorted(regexes)[0]
    what = f"{len(facts)} figure cards (headline numbers with their words and date)"
    found.candidates.append(Candidate(what, "facts", keys, details))
    return found


def _is_figure(element: lxml.html.HtmlElement) -> bool:
    """A number standing alone in its block (not a number inside a sentence)."""
    if not isinstance(element.tag, str) or element.tag in SKIPPED:
        return False
    if any(isinstance(child.tag, str) and squash(child.text_content()) for child in element):
        return False  # the number sits in a child (found there)
    if not FIGURE.fullmatch(squash(element.text_content())):
        return False
    parent = element.getparent()
    if parent is None:
        return False
    beside = [parent.text or "", *(sibling.tail or "" for sibling in parent)]
    if any(WORDS.search(text) for text in beside):
        return False  # "<strong>50,259</strong> out of ...": part of a sentence
    return not any(ancestor.tag in SKIPPED for ancestor in element.iterancestors())


def _card(element: lxml.html.HtmlElement, figures: list) -> lxml.html.HtmlElement | None:
    """The largest block around the figure that holds no other headline number and a
    few words."""
    card = None
    for ancestor in element.iterancestors():
        if ancestor.tag in ("body", "html") or len(squash(ancestor.text_content())) > CARD_TEXT:
            break
        if any(other is not element and _inside(other, ancestor) for other in figures):
            break
        card = ancestor
    if card is None or len(WORDS.findall(card.text_content())) < 3:
        return None
    return card


def _inside(element: lxml.html.HtmlElement, ancestor: lxml.html.HtmlElement) -> bool:
    return any(parent is ancestor for parent in element.iterancestors())


def _date_regex(text: str) -> str | None:
    if re.search(DATA_CURRENT, text):
        return DATA_CURRENT
    if re.search(AS_OF, text):
        return AS_OF
    return None


def _selectors(element: lxml.html.HtmlElement, card: lxml.html.HtmlElement) -> tuple[str, str]:
    """XPath of the card (by its id, a permalink in it, or its class and words) and of the
    figure inside it (by tag and class)."""
    if card.get("id"):
        card_path = f"//*[@id='{card.get('id')}']"
    else:
        condition = (
            f"[contains(@class,'{card.get('class').split()[0]}')]" if card.get("class") else ""
        )
        anchors = [a.get("href") for a in card.iter("a") if (a.get("href") or "").startswith("#")]
        if anchors and "'" not in anchors[0]:
            card_path = f"//{card.tag}{condition}[.//a[@href='{anchors[0]}']]"
        else:
            phrase = _phrase(card, element)
            card_path = f"//{card.tag}{condition}[contains(., '{phrase}')]"
    classes = (element.get("class") or "").split()
    inner = f"[contains(@class,'{classes[-1]}')]" if classes else ""
    return f"{card_path}//{element.tag}{inner}", card_path


def _phrase(card: lxml.html.HtmlElement, figure: lxml.html.HtmlElement) -> str:
    """A few words of the card's own text (no quotes), to find it by."""
    for part in card.iter():
        if part is figure or not isinstance(part.tag, str):
            continue
        text = squash(part.text or "")
        words = [w for w in text.split() if "'" not in w and '"' not in w]
        if len(words) >= 3:
            return " ".join(words[:5])
    return " ".join(w for w in squash(card.text_content()).split()[:5] if "'" not in w)


def _metric(prefix: str, words: str, taken: set[str]) -> str:
    meaningful = [w.lower() for w in WORDS.findall(words) if len(w) > 3][:3]
    name = f"{prefix}.{slug(' '.join(meaningful)) or 'figure'}"
    made, count = name, 1
    while made in taken:
        count += 1
        made = f"{name}_{count}"
    taken.add(made)
    return made
