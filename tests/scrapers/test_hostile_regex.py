"""A catastrophic regex in a config (issue 28): `^(\\d+)+$` against `1…1x` pinned a core
in the crawl child for hours. Config regexes run with RE2, in time linear in the text:
the same pattern now answers at once, and what RE2 cannot run in linear time
(lookarounds, backreferences) is refused by `crossings check` with the reason."""

import pytest

from core.checked import compiled
from scrapers.extract import LayoutError, Page
from scrapers.extract.facts import extract
from scrapers.kinds.facts import Fact, FactsSource
from tests.test_config_hostile import check, config

URL = "https://tracreports.org/immigration/quickfacts/eoir.html"


@pytest.mark.timeout(30)
def test_a_catastrophic_regex_on_a_page_answers_at_once():
    page = Page(URL, b"<html><body><p id='n'>" + b"1" * 50_000 + b"x</p></body></html>")
    fact = Fact(metric="trac.n", selector="#n", regex=r"^(\d+)+$")
    source = FactsSource(name="qf", url=URL, facts=(fact,), period_regex=r"(\d{4})")
    with pytest.raises(LayoutError, match=r"expected '\^\(\\\\d\+\)\+\$' in the text"):
        extract(source, page)


@pytest.mark.timeout(30)
def test_every_config_regex_is_linear_time():
    assert compiled(r"^(a|a)+$").search("a" * 100_000 + "x") is None
    assert compiled(r"(?P<month>\d\d)(?P<year>\d{4})").search("x_012024").groupdict() == {
        "month": "01", "year": "2024"}  # fmt: skip


@pytest.mark.parametrize(
    ("regex", "says"),
    [(r"(?<=Total )\\d+", "no lookarounds"), (r"(\\d)\\1", "nor backreferences")],
)
def test_a_regex_that_could_backtrack_is_refused_by_check(tmp_path, regex, says):
    path = tmp_path / "crossings.toml"
    path.write_bytes(config(source=f'rows = "{regex}"'))
    checked = check(path)
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert "is not valid as a regex" in checked.stderr and says in checked.stderr
    assert "re2.cc" not in checked.stderr and "Traceback" not in checked.stderr
