"""The config files tests write, from parts they share: the `[settings]` of a test crawl
(the database next to the config, no delay between requests to a local site), the webhook
channel the alert tests' receiver checks, and the rule the demo site's TRAC backlog trips."""

import json
from pathlib import Path

BACKLOG_RULE = """
[rules.trac-backlog]
kind = "threshold"
description = "TRAC backlog passed 3.5 million"
metric = "trac.court.backlog"
above = 3_500_000
channels = ["{channel}"]
"""


def settings(**keys: object) -> str:
    """`[settings]` with `database = "crossings.db"`, `download_delay = 0` and `keys`
    (strings, numbers, booleans and lists of them: written as JSON writes them, which TOML
    reads the same)."""
    keys = {"database": "crossings.db", "download_delay": 0, **keys}
    return "[settings]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in keys.items())


def write_config(folder: Path, *tables: str, **keys: object) -> Path:
    """`folder/crossings.toml`: the settings (`keys` added) and then `tables`."""
    path = folder / "crossings.toml"
    path.write_text(settings(**keys) + "".join(tables))
    return path


def webhook(url: str, name: str = "hook") -> str:
    """A webhook channel signed with the secret the `receiver` fixture checks."""
    return f"""
[channels.{name}]
kind = "webhook"
url = "{url}"
secret_env = "CROSSINGS_TEST_HOOK_SECRET"
timeout = 5
"""


# Sources read from real captures (tests/scrapers/pages: TRAC's report 695 and its Immigration
# Court Quick Facts), served at {url} by a test's site; str.format templates ({{row}} stays).
TRAC_TABLE = """
[sources.table]
kind = "table"
url = "{url}/reports/695/"
caption = "Table 1."
columns = ["Class", "Case Type"]
metric = "trac.completions.{{row}}"
"""
TRAC_FACTS = """
[sources.facts]
kind = "facts"
url = "{url}/quickfacts/eoir.html"
[[sources.facts.facts]]
metric = "trac.court.backlog"
selector = "#card-eoir_backlog .text-5xl"
card = "#card-eoir_backlog"
"""
