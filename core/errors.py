"""The one root of crossings' own exceptions. Every one carries a message a user can act
on (what broke, where, what to do), so the CLI shows any of them as one line
(`jobs/cli/__init__.py`) and the daemon records them as data (a run's reason, an outbox
message's last error) instead of letting them escape. It lives in core, below every
other package, so that every part can derive from it.

    CrossingsError
     ├── StorageError       storage/errors.py      the database cannot be opened or used;
     │                                             wraps every sqlite3.Error storage meets
     ├── DuplicateKind      core/registry.py    two classes claim one kind name (also TypeError)
     ├── PeriodError        core/periods.py     a label that is not a period (also ValueError)
     ├── NumberError        scrapers/numbers.py    a cell that is not a number (also ValueError)
     ├── LayoutError        scrapers/extract       a page no longer looks as its parser expects
     ├── FetchError         scrapers/streaming.py  a streamed download failed
     ├── InspectError       scrapers/inspect       a page `crossings inspect` cannot read
     │                                             (fetch failed, not what it says, no text)
     ├── RecordError        scrapers/records.py    a node's records cannot be read (other version)
     ├── DeliveryError      alerts/message.py      a channel could not deliver a message
     ├── ExpressionError    series/expression.py   a derived metric's expression is outside
     │                                             the language or its units (also ValueError)
     ├── NotReplayable      alerts/backtest.py     a backtest of a rule kind that does not
     │                                             judge series (also ValueError)
     ├── ConfigError        jobs/settings.py       the config file is broken (every problem)
     ├── DaemonError        jobs/daemon/service.py the daemon cannot start
     ├── NodeError          jobs/scrapyd/client.py a Scrapyd node cannot be used for a call
     └── DemoError          jobs/demo/run.py       the offline demo cannot start
"""


class CrossingsError(Exception):
    """Something crossings can explain; the message says what to do."""
