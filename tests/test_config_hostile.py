"""Config input that used to crash `crossings` or pass unnoticed, as a user would feed it
to `crossings check`: every case is a config error (exit 2) that says what is wrong and
where - never a traceback, never "OK". One table of cases, one test body."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from jobs.config import Config, load, unproduced_metrics

SOURCE = """
[sources.trac]
kind = "table"
url = "https://tracreports.org/"
metric = "trac.{{row}}"
schedule = "{schedule}"
{source_extra}
"""
RULE = """
[channels.hook]
kind = "webhook"
url = "https://example.org/hook"
timeout = {timeout}

[channels.mail]
kind = "email"
host = "smtp.example.org"
port = {port}
sender = "a@example.org"
to = ["b@example.org"]

[rules.high]
kind = "threshold"
metric = "trac.*"
above = {above}
channels = ["hook"]
"""


def config(schedule="6h", timeout="5", port="587", above="1000", settings="", source="") -> bytes:
    text = "[settings]\n" + settings + SOURCE.format(schedule=schedule, source_extra=source)
    text += RULE.format(timeout=timeout, port=port, above=above)
    return text.encode()


def metric(expression: str) -> bytes:
    """A derived metric whose expression is `expression` (a TOML literal string)."""
    return f"\n[metrics.derived]\nexpression = '{expression}'\n".encode()


CASES = [
    # (what, file bytes, words the error must contain)
    ("500-deep nesting", b"x = " + b"[" * 500 + b"]" * 500 + b"\n", "nested too deeply"),
    ("30-deep tables", b"[" + b".".join([b"a"] * 30) + b"]\nx = 1\n", "nested more than 20"),
    ("UTF-16", config().decode().encode("utf-16"), "UTF-16, not UTF-8"),
    ("Latin-1", config().replace(b"trac", "tr\u00e9s".encode("latin-1"), 1), "not UTF-8 text"),
    ("a byte-order mark", b"\xef\xbb\xbf" + config(), "byte-order mark"),
    ("an endless interval", config(schedule="99999999999999999999d"), "longer than ten years"),
    ("a year-long interval", config(schedule="400d"), "longer than a year"),
    ("31 February", config(schedule="* * 31 2 *"), "never fires"),
    ("timeout = nan", config(settings="timeout = nan\n"), "expected a finite number"),
    ("delay = inf", config(settings="download_delay = inf\n"), "expected a finite number"),
    ("negative retries", config(settings="retries = -1\n"), "retries = -1 is out of range"),
    ("zero timeout", config(settings="timeout = 0\n"), "timeout must be more than 0"),
    ("a huge port", config(port="70000"), "port 70000 is not a TCP port"),
    ("a negative channel timeout", config(timeout="-5"), "timeout -5 is out of range"),
    ("a level of nan", config(above="nan"), "expected a finite number"),
    ("a broken CSS selector", config(source='selector = "table[["'), "not a valid CSS selector"),
    ("a listen port too big", config(settings='listen = "127.0.0.1:70000"\n'), "not a TCP port"),
    ("a broken regex", config(source='rows = "(unclosed"'), "not valid as a regex"),
    ("repeat for ever", config() + b'repeat_interval = "99999999999999d"\n', "ten years"),
    # issue 28: numbers that `check` accepted and evaluation then overflowed on
    ("a 10^20-day window", config() + b'window = "99999999999999999999d"\naggregate = "mean"\n',
     "longer than ten years"),
    ("a window of 2^63 periods", config() + b'window = 9223372036854775807\naggregate = "sum"\n',
     "9223372036854775807 periods is out of range"),
    ("for 10^20 periods", config() + b"for = 100000000000000000000\n", "out of range"),
    ("resolve_for 10^20 days", config() + b'resolve_for = "100000000000000000000d"\n',
     "longer than ten years"),
    ("lift_after 10^20 days", config() + b'lift_after = "100000000000000000000d"\n',
     "longer than ten years"),
    ("a budget of 10^20", config(source="budget = 100000000000000000000"),
     "whole numbers go up to 1,000,000,000"),
    ("a rolling window of 10^20 days",
     config() + metric('rolling("trac.x", "99999999999999999999d", mean)'),
     "longer than ten years"),
    ("a 401-digit literal", config() + metric("1" * 401 + ' * "trac.x"'),
     "is too large"),
    ("100,000 unary minus signs", config() + metric("-" * 100_000 + '"trac.x"'),
     "100,008 characters long; at most 2,000"),
    ("a 100,000-term sum", config() + metric("+".join(['"trac.x"'] * 100_000)),
     "characters long; at most 2,000"),
    ("a 60-deep expression", config() + metric("+".join(['"trac.x"'] * 60)),
     "nests more than 50"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "body", "says"), CASES, ids=[case[0] for case in CASES])
def test_hostile_config_is_a_clear_error_never_a_traceback(tmp_path, what, body, says):
    path = tmp_path / "crossings.toml"
    path.write_bytes(body)
    checked = check(path)
    assert "Traceback" not in checked.stderr, checked.stderr
    assert checked.returncode == 2, (checked.returncode, checked.stdout, checked.stderr)
    assert says in checked.stderr, checked.stderr


def check(path):
    return subprocess.run(
        [sys.executable, "-m", "jobs", "--config", str(path), "check"],
        capture_output=True, text=True, timeout=60, cwd=path.parent,
    )  # fmt: skip


def test_a_rule_on_a_metric_no_source_publishes_is_an_error(tmp_path):
    """A typo in a rule's metric is not a healthy config: exit 2, the closest metric and
    the metrics there are, and the key that says the metric is still to come."""
    source = b'metric = "my.table.{row}"'
    typo = tmp_path / "typo.toml"
    typo.write_bytes(
        config()
        .replace(b'metric = "trac.{row}"', source)
        .replace(b'metric = "trac.*"', b'metric = "my.tabel.encounters"')
    )
    checked = check(typo)
    assert checked.returncode == 2, checked.stderr
    said = checked.stderr
    assert "no source publishes metric 'my.tabel.encounters'" in said
    assert "did you mean 'my.table.encounters'?" in said and "known metrics: my.table.*" in said
    assert "waits_for_metric = true" in said
    to_come = tmp_path / "to_come.toml"
    to_come.write_bytes(typo.read_bytes() + b"waits_for_metric = true\n")
    checked = check(to_come)
    assert checked.returncode == 0 and "no source publishes" not in checked.stderr, checked.stderr
    fine = tmp_path / "fine.toml"
    fine.write_bytes(config())
    checked = check(fine)
    assert checked.returncode == 0 and "no source publishes" not in checked.stderr


def test_stored_metrics_explain_a_rule_and_are_read_only_when_needed(tmp_path):
    """A metric the database holds is produced (a source renamed its template since);
    the stored names, seconds to read with 10,000 sources, are read only for a rule no
    source explains."""
    path = tmp_path / "crossings.toml"
    path.write_bytes(config().replace(b'metric = "trac.*"', b'metric = "old.backlog"'))
    loaded = load(path)
    reads = []

    def stored(names: list[str]) -> Callable[[], list[str]]:
        def read() -> list[str]:
            reads.append(names)
            return names

        return read

    assert unproduced_metrics(loaded, stored(["old.backlog"])) == []
    [problem] = unproduced_metrics(loaded, stored(["other"]))
    assert "no source publishes metric 'old.backlog'" in str(problem)
    assert len(reads) == 2
    assert unproduced_metrics(load_bytes(tmp_path, config()), stored(["x"])) == []
    assert len(reads) == 2  # every rule explained by a source: the database is not read


def load_bytes(directory: Path, body: bytes) -> Config:
    path = directory / "fine.toml"
    path.write_bytes(body)
    return load(path)
