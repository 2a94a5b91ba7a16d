"""Kinds answer for themselves: a source kind says which metrics it publishes (exact names,
and patterns from its templates), a rule kind which it reads; the config loader asks them
instead of guessing from field names. Every registered source kind has a sample here, so
a new kind cannot be added without saying what it publishes."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from alerts.kinds import RULE_KINDS
from jobs.cli import cli
from jobs.config import load, unproduced_metrics
from scrapers.kinds import SOURCE_KINDS

URL = "https://example.org/data"
AS_OF = "as_of = \"text\"\nas_of_regex = 'as of (\\w+ \\d+, \\d{4})'"
# kind -> (the source's keys as a user writes them, what it publishes with units)
SAMPLES = {
    "table": (
        'metric = "trac.{row}"\npercent_metric = "trac.{row}.share"\nunit = "cases"',
        {"trac.*": "cases", "trac.*.share": "percent"},
    ),
    "xlsx": ('metric = "ice.detained.{row}.{column}"', {"ice.detained.*.*": "count"}),
    "pdf": (
        f'metric = "eoir.{{row}}"\n{AS_OF}\n'
        '[[sources.s.figures]]\nmetric = "eoir.pending"\nregex = "Pending ([\\\\d,]+)"\n'
        'unit = "cases"',
        {"eoir.*": "count", "eoir.pending": "cases"},
    ),
    "csv": (
        'metric = "cbp.swb.{demographic}.encounters"\nvalue = "Count"\nyear = "FY"',
        {"cbp.swb.*.encounters": "count"},
    ),
    "facts": (
        '[[sources.s.facts]]\nmetric = "trac.backlog"\nselector = "#b"\nunit = "cases"\n'
        '[[sources.s.facts]]\nmetric = "trac.judges"\nselector = "#j"',
        {"trac.backlog": "cases", "trac.judges": "count"},
    ),
    "json": (
        'period = "fy"\n[sources.s.values]\nn = "trac.asylum.grants"\nd = "trac.asylum.denials"',
        {"trac.asylum.grants": "count", "trac.asylum.denials": "count"},
    ),
    "feed": ("", {}),
    "listing": ('items = "li"', {}),
}


def configured(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "crossings.toml"
    path.write_text(f'[settings]\ndatabase = "{tmp_path / "c.db"}"\n{text}')
    return path


@pytest.mark.parametrize(
    "kind", sorted(k for k, c in SOURCE_KINDS.items() if c.__module__.startswith("scrapers."))
)
def test_every_source_kind_says_what_it_publishes(tmp_path, kind):
    assert kind in SAMPLES, f"source kind {kind!r} has no sample here: add what it publishes"
    keys, publishes = SAMPLES[kind]
    source = load(configured(tmp_path, f'[sources.s]\nkind = "{kind}"\nurl = "{URL}"\n{keys}\n'))
    assert source.sources["s"].publishes() == publishes


def test_rules_say_which_metrics_they_read():
    assert RULE_KINDS["threshold"](name="t", metric="cbp.*", above=1).reads() == ("cbp.*",)
    assert RULE_KINDS["stale"](name="s", metric="trac.backlog").reads() == ("trac.backlog",)
    assert RULE_KINDS["revision"](name="r").reads() == ("*",)
    assert RULE_KINDS["news"](name="n").reads() == ()  # news, not series
    assert RULE_KINDS["source_health"](name="h").reads() == ()  # runs, not series


PDF_FIGURES = f"""
[sources.eoir]
kind = "pdf"
url = "{URL}"
{AS_OF}

[[sources.eoir.figures]]
metric = "eoir.pending"
regex = 'Pending [Cc]ases:?\\s*([\\d,]+)'
unit = "cases"

[metrics.eoir-pending-thousands]
expression = '"eoir.pending" / 1000'

[channels.console]
kind = "console"

[rules.backlog]
kind = "threshold"
metric = "eoir.pending"
above = 4000000
channels = ["console"]
"""


def test_a_derived_metric_and_a_rule_over_a_pdf_figure_pass_check(tmp_path):
    path = configured(tmp_path, PDF_FIGURES)
    checked = CliRunner().invoke(cli, ["--config", str(path), "check"])
    assert checked.exit_code == 0, checked.output
    assert "Config" in checked.output and "OK" in checked.output
    assert "Warning" not in checked.output  # the rule's metric is published
    assert unproduced_metrics(load(path), lambda: []) == []


def test_a_rule_over_a_figure_no_source_publishes_is_still_warned_about(tmp_path):
    path = configured(
        tmp_path,
        PDF_FIGURES.replace('metric = "eoir.pending"\nabove', 'metric = "eoir.pendng"\nabove'),
    )
    [problem] = unproduced_metrics(load(path), lambda: [])
    assert "no source publishes metric 'eoir.pendng'" in str(problem)
