"""Property-based tests (Hypothesis, issue 28): whatever text or bytes come in, the
config checker, the expression language, the number and period readers and every
extractor answer with a result or their own error, never a traceback nor a hang, and a
page always ends its run with a status and a reason. Example counts stay modest (the
suite must stay fast on two cores) and derandomized (CI sees the same examples)."""

import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.periods import Period, PeriodError
from jobs.config import ConfigError, parse
from scrapers.extract import LayoutError, Page, extract
from scrapers.extract.bounds import Unreadable
from scrapers.numbers import NumberError, parse_number
from series.expression import ExpressionError
from series.expression import parse as parse_expression
from tests.scrapers.pages import page_bytes
from tests.scrapers.test_crawl import SOURCES
from tests.scrapers.test_real_captures import EOIR_LINES, EOIR_TABLE, eoir, ice, made_pdf

QUICK = settings(max_examples=60, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
FEW = settings(max_examples=8, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
REAL = Path(__file__).parent / "fixtures" / "real"

# -- readers of numbers, periods and expressions -----------------------------------------

NUMBERISH = st.text(alphabet="0123456789,.-+%*()$ \u2212\u2014naNAKMB", max_size=30)


@QUICK
@given(st.one_of(st.text(max_size=40), NUMBERISH))
def test_any_text_is_a_number_or_a_number_error(text):
    try:
        number = parse_number(text)
    except NumberError as error:
        assert str(error)
        return
    assert number.value is None or isinstance(number.value, float | int)


PERIODISH = st.text(alphabet="0123456789-/ FYQqJanFebDecSepfy*.", max_size=20)


@QUICK
@given(st.one_of(st.text(max_size=30), PERIODISH))
def test_any_label_is_a_period_or_a_period_error(text):
    try:
        Period.parse(text)
    except PeriodError as error:
        assert str(error)


EXPRESSIONISH = st.text(alphabet='"abc.*()+-*/ ,0123456789e_rolingsumepr_dyanx7dw', max_size=80)


@QUICK
@given(st.one_of(st.text(max_size=80), EXPRESSIONISH))
def test_any_expression_parses_or_says_why(text):
    try:
        parse_expression(text)
    except ExpressionError as error:
        assert str(error) and "\n" not in str(error)


# -- the config checker -----------------------------------------------------------------

SCALARS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
)
RULE_KEYS = ["kind", "metric", "above", "below", "window", "for", "resolve_for", "lift_after",
             "aggregate", "repeat_interval", "channels", "labels"]  # fmt: skip
SETTINGS_KEYS = ["timeout", "retries", "download_delay", "max_body_mb", "parse_memory_mb",
                 "polling_budget", "listen", "timezone", "retry_alerts_for"]  # fmt: skip


@QUICK
@given(
    rule=st.dictionaries(st.sampled_from(RULE_KEYS), SCALARS, max_size=6),
    chosen=st.dictionaries(st.sampled_from(SETTINGS_KEYS), SCALARS, max_size=3),
    expression=st.one_of(EXPRESSIONISH, st.text(max_size=40)),
)
def test_any_config_values_are_accepted_or_each_named(rule, chosen, expression):
    document = {
        "settings": chosen,
        "rules": {"r": {"kind": "threshold", "metric": "m", "above": 1, **rule}},
        "metrics": {"d": {"expression": expression}},
    }
    try:
        parse(document, Path("crossings.toml"))
    except ConfigError as error:
        assert error.problems and all(str(problem) for problem in error.problems)


# -- every extractor, on random and mutated bodies ---------------------------------------

SOURCE_BODIES = {
    "table": "report-695.html", "facts": "quickfacts-eoir.html",
    "json": "trac_asylum_graph.json", "csv-fixed": "cbp_sbo_encounters_excerpt.csv",
    "feed": "dhs-news-rss.xml", "listing": "whatsnew.html",
}  # fmt: skip
CONFIGURED = parse(
    tomllib.loads(SOURCES.format(url="https://www.example.org")), Path("crossings.toml")
).sources


@st.composite
def mutated(draw, body: bytes) -> bytes:
    """`body` with a few cuts, insertions, copies and flipped bytes; or random bytes."""
    if draw(st.booleans()) and len(body) < 4000:
        return draw(st.binary(max_size=len(body) + 10))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(body)))
        span = draw(st.integers(0, 64))
        operation = draw(st.sampled_from(["cut", "insert", "copy", "flip"]))
        if operation == "cut":
            body = body[:at] + body[at + span :]
        elif operation == "insert":
            body = body[:at] + draw(st.binary(max_size=16)) + body[at:]
        elif operation == "copy":
            body = body[:at] + body[at : at + span] * 50 + body[at:]
        elif at < len(body):
            body = body[:at] + bytes([body[at] ^ draw(st.integers(1, 255))]) + body[at + 1 :]
    return body


def ends_with_a_reason(source, page: Page) -> None:
    """What a crawl records: `ok`, or `broken` / `failed` with the reason; any other
    exception would be "a bug in crossings"."""
    try:
        extract(source, page)
    except (LayoutError, Unreadable) as error:
        assert str(error).startswith(f"{source.name}: "), str(error)


@pytest.mark.parametrize("name", sorted(SOURCE_BODIES))
def test_every_page_extractor_on_mutated_bodies_ends_with_a_reason(name):
    source = CONFIGURED[name]
    body = page_bytes(SOURCE_BODIES[name])

    @QUICK
    @given(mutated(body))
    def check(changed):
        ends_with_a_reason(source, Page(source.url, changed))

    check()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["xlsx", "pdf"])
def test_the_binary_extractors_on_mutated_files_end_with_a_reason(kind):
    """Each example is a reading process of its own (scrapers.extract.isolated)."""
    if kind == "xlsx":
        source = ice()
        body = (REAL / "ice_detention_stats_fy2021_2021-03-01.xlsx").read_bytes()
    else:
        source, body = eoir(), made_pdf(EOIR_LINES, EOIR_TABLE)

    @FEW
    @given(mutated(body))
    def check(changed):
        ends_with_a_reason(source, Page(source.url, changed))

    check()
