"""The base of every storage area: one shared connection, so that writes from several
areas can join one transaction (`Store.transaction`), and `where`, the one builder of
optional filters."""

import contextlib
from collections.abc import Iterator

import sqlite_utils

from storage.database import StorageError, transaction

Term = tuple[str, object]


def where(*terms: Term) -> tuple[str, list]:
    """A `WHERE` clause and its parameters from (condition, value) terms. A term whose value
    is None is left out (an unset filter); a tuple value fills several `?` (or none: `()`).
    Conditions are fixed text written here in storage; only values are parameters."""
    conditions: list[str] = []
    params: list = []
    for condition, value in terms:
        if value is None:
            continue
        conditions.append(condition)
        params.extend(value if isinstance(value, tuple) else (value,))
    return (f"WHERE {' AND '.join(conditions)}" if conditions else ""), params


class Repository:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with transaction(self.db):
            yield

    def _rows(self, sql: str, params: dict | list | tuple = ()) -> list[dict]:
        return list(self.db.query(sql, params))

    def _one(self, sql: str, params: dict | list | tuple = ()) -> dict | None:
        return next(iter(self.db.query(sql, params)), None)

    def _aggregate(self, sql: str, params: dict | list | tuple = ()) -> dict:
        """The one row an aggregate query (COUNT, MAX, ...) always answers."""
        row = self._one(sql, params)
        if row is None:
            raise StorageError(f"an aggregate query answered no row: {sql}")
        return row

    def _insert(self, sql: str, params: list | tuple) -> int:
        """Run an INSERT of one row and return its id."""
        row_id = self.db.execute(sql, params).lastrowid
        if row_id is None:
            raise StorageError(f"an insert stored no row: {sql}")
        return row_id
