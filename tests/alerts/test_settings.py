"""Rule and channel settings as users write them: every mistake is reported with where it
is and what to do (one table of cases, one test body, like urlwatch's filter tests)."""

import tomllib

import pytest

from jobs.config import ConfigError, parse

CHANNEL = '[channels.log]\nkind = "console"\n'

CASES = [
    ('kind = "threshold"\nmetric = "m"', "set exactly one of `above`, `at_or_above`"),
    ('kind = "threshold"\nmetric = "m"\nabove = 5\nbelow = 1', "set exactly one of"),
    ('kind = "threshold"\nmetric = "m"\nabove = 5\nresolve_below = 9', "must not be higher"),
    ('kind = "threshold"\nmetric = "m"\nabove = 5\nresolve_above = 1', "goes the same way"),
    ('kind = "threshold"\nmetric = "m"\nabove = 5\nwindow = 7', "needs aggregate = mean"),
    ('kind = "threshold"\nmetric = "m"\nabove = 5\naggregate = "median"', "is not one of"),
    ('kind = "threshold"\nmetric = "m"\nabove = 5\nresolve_for = 0', "resolve_for must be at"),
    ('kind = "threshold"\nabove = 5', "missing required key 'metric'"),
    ('kind = "change"\nmetric = "m"', "set `rise`, `fall` or both"),
    ('kind = "change"\nmetric = "m"\nfall = -5', "fall is a size"),
    ('kind = "change"\nmetric = "m"\nrise = 5\ncompare = "last_year"', "is not one of"),
    ('kind = "stale"\nmetric = "m"\nafter = "45 days"', "is not a duration"),
    ('kind = "news"', "set `keywords`, `regex` or both"),
    ('kind = "news"\nregex = "("', "is not valid"),
    ('kind = "source_health"\nsource = "nowhere"', "unknown source 'nowhere'"),
    ('kind = "threshold"\nmetric = "m"\nabove = 1\nchannels = ["pager"]', "unknown channel"),
    ('kind = "thresold"\nmetric = "m"', 'unknown kind "thresold"'),
]  # fmt: skip


@pytest.mark.parametrize(("table", "expected"), CASES)
def test_rule_mistakes_are_explained(tmp_path, table, expected):
    document = f"{CHANNEL}[rules.r]\n{table}\n"

    with pytest.raises(ConfigError) as caught:
        parse(tomllib.loads(document), tmp_path / "crossings.toml")
    shown = [str(problem) for problem in caught.value.problems]
    assert any(expected in line and line.startswith('rule "r"') for line in shown), shown


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('kind = "email"\nhost = "h"\nsender = "a@b"\nto = []', "`to` needs at least one"),
        ('kind = "email"\nhost = "h"\nsender = "a@b"\nto = ["c@d"]\nusername = "u"',
         "set `password_env`"),
        ('kind = "email"\nhost = "h"\nsender = "a@b"\nto = ["c@d"]\nusername = "u"\n'
         'password_env = "P"\nsecurity = "none"', "never a clear-text password"),
        ('kind = "webhook"\nurl = "hooks.example.org"', "must start with http"),
        ('kind = "webhook"\nurl = "https://x"\nformat = "teams"', "is not one of"),
    ],
)  # fmt: skip
def test_channel_mistakes_are_explained(tmp_path, table, expected):

    with pytest.raises(ConfigError) as caught:
        parse(tomllib.loads(f"[channels.c]\n{table}\n"), tmp_path / "crossings.toml")
    assert any(expected in str(problem) for problem in caught.value.problems), caught.value


def test_the_proclamation_rule_reads_as_written(tmp_path):

    document = (
        CHANNEL
        + """
[rules.border-proclamation]
kind = "threshold"
metric = "cbp.swb.encounters.daily"
window = 7
aggregate = "mean"
above = 2500
resolve_below = 1500
resolve_for = 28
repeat_interval = "7d"
channels = ["log"]
labels = { severity = "warning" }
"""
    )
    rule = parse(tomllib.loads(document), tmp_path / "c.toml").rules["border-proclamation"]
    assert (rule.level, rule.resolve_level, rule.window.periods, rule.resolve_for.periods) == (
        2500,
        1500,
        7,
        28,
    )
    assert rule.repeat_interval.days == 7 and rule.labels == {"severity": "warning"}
