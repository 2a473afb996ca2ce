"""A bridge from the embedded store of today (`icarflex.mocks.common.store.Store`) to the unit of work
the ICAR repositories are written against: `transaction()` yields an object with `execute`,
`query`, `one`, `scalar`, `insert` and `next_number`, rows are plain dicts, SQL is portable
(`?` placeholders, `ON CONFLICT`, `RETURNING`) and a duplicate is a `UniqueViolation`.

It goes once the store interface of issue 11 (`icarflex.mocks.common.store`, SQLite and
PostgreSQL) is on main: the repositories then take that store as they are.
"""
from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from icarflex.mocks.common.store import Store

TOKENS = {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "real": "REAL", "bigint": "INTEGER"}
COUNTERS = "CREATE TABLE IF NOT EXISTS icar_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);\n"


class UniqueViolation(Exception):
    """A unique index refused the write."""


def schema_sql(ddl: str) -> str:
    """The migrations' DDL for the embedded store, idempotent (run at every start)."""
    sql = re.sub(r"CREATE (UNIQUE )?(TABLE|INDEX) ", r"CREATE \1\2 IF NOT EXISTS ", ddl.format(**TOKENS))
    return COUNTERS + sql


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    return [dict(row) for row in cursor.fetchall()]


class _Tx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def _run(self, sql: str, params: Any) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, tuple(params))
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc):
                raise UniqueViolation(str(exc)) from exc
            raise

    def execute(self, sql: str, params: Any = ()) -> int:
        return self._run(sql, params).rowcount

    def query(self, sql: str, params: Any = (), *, lock: bool = False) -> list[dict[str, Any]]:
        return _rows(self._run(sql, params))

    def one(self, sql: str, params: Any = (), *, lock: bool = False) -> dict[str, Any] | None:
        row = self._run(sql, params).fetchone()
        return None if row is None else dict(row)

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self._run(sql, params).fetchone()
        return None if row is None else row[0]

    def insert(self, table: str, values: dict[str, Any], *, returning: str | None = None) -> Any:
        sql = f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})"
        if returning is None:
            self._run(sql, tuple(values.values()))
            return None
        return self.scalar(f"{sql} RETURNING {returning}", tuple(values.values()))

    def next_number(self, name: str, count: int = 1) -> int:
        return int(self.scalar("INSERT INTO icar_counters (name, value) VALUES (?, ?) ON CONFLICT (name) "
                               "DO UPDATE SET value = icar_counters.value + excluded.value RETURNING value",
                               (name, count)))


class UnitOfWorkStore:
    """The embedded store seen through the unit-of-work interface."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @contextmanager
    def transaction(self) -> Iterator[_Tx]:
        with self._store.transaction() as conn:
            yield _Tx(conn)

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self._store.query(sql, tuple(params))]

    def one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        row = self._store.one(sql, tuple(params))
        return None if row is None else dict(row)

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self._store.one(sql, tuple(params))
        return None if row is None else row[0]
