"""Storage's own failure: every sqlite3.Error storage meets becomes a StorageError naming
the file (the tree of errors is drawn in core/errors.py)."""

import contextlib
import sqlite3
from collections.abc import Iterator

from core.errors import CrossingsError


class StorageError(CrossingsError):
    """The database cannot be opened or used; the message says which file and what to do."""


@contextlib.contextmanager
def sqlite_errors(what: str = "the database") -> Iterator[None]:
    """Turn a sqlite3.Error raised inside into a StorageError naming `what`."""
    try:
        yield
    except sqlite3.Error as error:
        raise StorageError(f"{what}: {error}") from error
