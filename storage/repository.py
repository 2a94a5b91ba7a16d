"""The base of every storage area: one shared connection, so that writes from several
areas can join one transaction (`Store.transaction`); `where`, the one builder of
optional filters; and `record`, a stored row as its dataclass."""

import contextlib
import dataclasses
import functools
import inspect
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import sqlite_utils

from storage.database import transaction, write
from storage.errors import StorageError, sqlite_errors

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Term = tuple[str, object]
Record = TypeVar("Record", bound="DataclassInstance")
# A row as SQLite gives it, by column name: what a storage function returns until its
# rows have a frozen dataclass of their own (`record`). Named, so each one left is found.
Row = dict[str, Any]
Params = dict[str, Any] | Sequence[Any]  # a query's parameters: by name or in order


def where(*terms: Term) -> tuple[str, list[Any]]:
    """A `WHERE` clause and its parameters from (condition, value) terms. A term whose value
    is None is left out (an unset filter); a tuple value fills several `?` (or none: `()`).
    Conditions are fixed text written here in storage; only values are parameters."""
    conditions: list[str] = []
    params: list[Any] = []
    for condition, value in terms:
        if value is None:
            continue
        conditions.append(condition)
        params.extend(value if isinstance(value, tuple) else (value,))
    return (f"WHERE {' AND '.join(conditions)}" if conditions else ""), params


def record(cls: type[Record], row: Mapping[str, Any]) -> Record:
    """A stored row as its dataclass: each field from the column of the same name. A field
    with no column (worked out, not stored, like `Snapshot.new_body`) keeps its default."""
    return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls) if f.name in row})


class Repository:
    """A storage area. Its public methods raise StorageError, never sqlite3.Error: what
    goes wrong in SQLite stays inside storage, as an error the rest of crossings knows."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for name, member in list(vars(cls).items()):
            if inspect.isfunction(member) and not name.startswith("_"):
                setattr(cls, name, _raising_storage_errors(member))

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with sqlite_errors(), transaction(self.db):
            yield

    def _write(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        """One statement that writes: atomic by itself (`storage.database.write`)."""
        with sqlite_errors():
            return write(self.db, sql, params)

    def _rows(self, sql: str, params: Params = ()) -> list[Row]:
        return list(self.db.query(sql, params))

    def _one(self, sql: str, params: Params = ()) -> Row | None:
        return next(iter(self.db.query(sql, params)), None)

    def _aggregate(self, sql: str, params: Params = ()) -> Row:
        """The one row an aggregate query (COUNT, MAX, ...) always answers."""
        row = self._one(sql, params)
        if row is None:
            raise StorageError(f"an aggregate query answered no row: {sql}")
        return row

    def _insert(self, sql: str, params: Sequence[Any]) -> int:
        """Run an INSERT of one row (its own transaction, unless in one) and return its id."""
        row_id = self._write(sql, params).lastrowid
        if row_id is None:
            raise StorageError(f"an insert stored no row: {sql}")
        return row_id


def _raising_storage_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """A Repository method (a function or a generator function) that raises StorageError
    naming the database file, never sqlite3.Error."""
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def generator(self: Repository, *args: Any, **kwargs: Any) -> Any:
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.Error as error:
                raise StorageError(f"{_file_of(self.db)}: {error}") from error

        return generator

    @functools.wraps(method)
    def function(self: Repository, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as error:
            raise StorageError(f"{_file_of(self.db)}: {error}") from error

    return function


def _file_of(db: sqlite_utils.Database) -> str:
    try:
        return f"database {db.conn.execute('PRAGMA database_list').fetchone()[2]}"
    except sqlite3.Error:
        return "the database"
