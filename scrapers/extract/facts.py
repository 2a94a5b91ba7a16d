"""The `facts` extractor: single figures on a page (TRAC Quick Facts cards), each dated by
text near it ("Data current as of May 31, 2025")."""

from parsel import Selector, SelectorList

from core.checked import compiled
from core.periods import Period, PeriodError
from scrapers.extract import Extraction, LayoutError, Page
from scrapers.extract.text import squash
from scrapers.kinds.facts import Fact, FactsSource
from scrapers.numbers import NumberError, parse_number
from storage import Observation


def extract(source: FactsSource, page: Page) -> Extraction:
    page_selector = Selector(text=page.text)
    extraction = Extraction()
    for fact in source.facts:
        nodes = select(page_selector, fact.selector)
        if not nodes:
            raise LayoutError(
                f"{source.name}: expected an element matching {fact.selector!r} for "
                f"{fact.metric} at {page.url}, found none"
            )
        text = text_of(nodes[:1])
        figure = text
        if fact.regex:
            match = compiled(fact.regex).search(text)
            if not match:
                raise LayoutError(
                    f"{source.name}: expected {fact.regex!r} in the text of {fact.selector!r} "
                    f"at {page.url}, found {text[:120]!r}"
                )
            figure = match.group(1) if match.groups() else match.group(0)
        try:
            number = parse_number(figure)
        except NumberError:
            number = None
        if number is None or number.value is None:
            raise LayoutError(
                f"{source.name}: expected a number for {fact.metric} in {fact.selector!r} at "
                f"{page.url}, found {figure[:120]!r}"
            )
        extraction.add(
            Observation(
                fact.metric,
                _period(source, fact, page_selector, page),
                number.value,
                number.unit or fact.unit,
                number.flags,
            ),
            label=fact.label,
            source=source.name,
        )
    return extraction


def _period(source: FactsSource, fact: Fact, page_selector: Selector, page: Page) -> str:
    scopes = (
        [*select(page_selector, fact.card)[:1], page_selector] if fact.card else [page_selector]
    )
    for scope in scopes:
        if match := compiled(source.period_regex).search(text_of([scope])):
            try:
                period = Period.parse(match.group(1) if match.groups() else match.group(0))
            except PeriodError as error:
                raise LayoutError(f"{source.name}: the date of {fact.metric}: {error}") from None
            return period.text[:7] if source.period == "month" else period.text
    raise LayoutError(
        f"{source.name}: expected the date of {fact.metric} ({source.period_regex!r}) at "
        f"{page.url}, found no such text"
    )


def select(selector: Selector, query: str) -> SelectorList:
    """CSS, or XPath when the query starts with '/' or '('."""
    return selector.xpath(query) if query.startswith(("/", "(")) else selector.css(query)


def text_of(nodes: list[Selector] | SelectorList) -> str:
    return squash(" ".join(node.xpath("string()").get() or "" for node in nodes))
