"""Search words and ids as a user (or a stranger) types them: a user's words are words,
never FTS5 syntax, and an id too large to exist is a 404 or a usage error, never a 500
or a traceback."""

import pytest
import requests
from click.testing import CliRunner

from jobs.cli import cli
from storage import Store
from tests.query.sample import Sample
from tests.query.servers import serving

HOSTILE_WORDS = ["OR", "OR OR", "asylum OR", "OR asylum", "\x00", "asylum\x00", '"', 'a "b',
                 "NEAR(a b)", "*", "-asylum", "a AND", "title:x", "^a", "(", ")", "' OR 1=1 --",
                 "\x1b[31m", "   "]  # fmt: skip


@pytest.fixture(scope="module")
def site(sample: Sample):
    with serving(sample.config) as url:
        yield url


@pytest.mark.parametrize("words", HOSTILE_WORDS)
def test_any_search_words_are_words_on_the_page_and_in_the_cli(site, sample, words) -> None:
    response = requests.get(f"{site}/news", params={"q": words}, timeout=30)
    assert response.status_code == 200, response.text[:500]
    result = CliRunner().invoke(
        cli, ["--config", str(sample.config.path), "news", "--search", words]
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def test_or_is_an_operator_only_between_words(sample) -> None:
    with Store(sample.database, read_only=True) as store:
        everything = store.news.search(limit=1000)
        title_words = everything[0].title.split()
        one, other = title_words[0], everything[-1].title.split()[0]
        either = store.news.search(f"{one} OR {other}", limit=1000)
        assert {item.id for item in either} >= {everything[0].id, everything[-1].id}
        assert store.news.search("OR", limit=1000) == store.news.search('"OR"', limit=1000)


@pytest.mark.parametrize(
    "path", ["/snapshots/99999999999999999999999", "/snapshots/9223372036854775808/raw"]
)
def test_a_snapshot_id_too_large_to_exist_is_a_404(site, path) -> None:
    assert requests.get(site + path, timeout=30).status_code == 404


@pytest.mark.parametrize(
    "command",
    [["snapshot", "99999999999999999999999"], ["alerts", "unsilence", "9223372036854775808"],
     ["alerts", "retry", "99999999999999999999"]],
)  # fmt: skip
def test_an_id_too_large_is_a_usage_error_not_a_traceback(sample, command) -> None:
    result = CliRunner().invoke(cli, ["--config", str(sample.config.path), *command])
    assert result.exit_code == 2, result.output
    assert "is not in the range" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


ENDLESS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"


@pytest.mark.timeout(60)
def test_a_query_without_end_stops_at_its_time_limit_with_one_line(sample) -> None:
    """Issue 28: a recursive CTE ran until killed. Now the statement is stopped."""
    result = CliRunner().invoke(
        cli, ["--config", str(sample.config.path), "query", ENDLESS, "--time-limit", "1"]
    )
    assert result.exit_code == 1, result.output
    assert "the query ran longer than 1 s and was stopped" in result.output
    assert "Traceback" not in result.output
    again = CliRunner().invoke(cli, ["--config", str(sample.config.path), "query",
                                     "SELECT count(*) AS n FROM runs", "--csv"])  # fmt: skip
    assert again.exit_code == 0 and again.output.startswith("n\n"), again.output
