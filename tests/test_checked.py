"""Checked config text agrees with what reads it at crawl time: a selector that
`crossings check` accepts is one parsel (Scrapy's selectors) can use, and one it refuses,
parsel refuses too, though the check runs on cssselect alone."""

import pytest
from parsel.csstranslator import HTMLTranslator

from core.checked import css_selector

SELECTORS = [
    "#card-eoir_backlog .text-5xl",
    "table.data > tbody tr:nth-child(2n+1) td:first-child",
    "a[href$='.csv']::attr(href)",
    "a::attr(data-date)",
    "li.item h3::text",
    "ul li:not(.hidden) span:contains('FY')",
    "table[[",
    "li::texts",
    "a::attr()",
    "a::attr(href, title)",
    "a::href(x)",
    "div:hover",
    "p ~",
    "::text",
]


def parsel_accepts(text: str) -> bool:
    try:
        HTMLTranslator().css_to_xpath(text)
    except Exception:
        return False
    return True


@pytest.mark.parametrize("text", SELECTORS)
def test_a_selector_is_checked_as_parsel_reads_it(text: str) -> None:
    if parsel_accepts(text):
        assert css_selector(text) == text
    else:
        with pytest.raises(ValueError, match="is not a valid CSS selector"):
            css_selector(text)


def test_both_kinds_of_selector_are_among_the_cases() -> None:
    accepted = [text for text in SELECTORS if parsel_accepts(text)]
    assert 0 < len(accepted) < len(SELECTORS)
