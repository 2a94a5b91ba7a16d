"""The base of every storage area: one shared connection, so that writes from several
areas can join one transaction (`Store.transaction`)."""

import contextlib
from collections.abc import Iterator

import sqlite_utils

from storage.database import transaction


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
