"""The store: the one interface every repository of both fakes is written against.

Contract (what a repository may rely on, on SQLite and PostgreSQL alike):

- `open_store(db)` picks the backend: `postgresql://…` (or `postgres://…`) → PostgreSQL
  (psycopg 3), a path → SQLite (one file, WAL), None → a temporary SQLite file removed with
  the store. Nothing but `sqlite.py` and `postgres.py` sees a driver object.
- `store.transaction()` is the unit of work: a `Transaction` whose statements all commit
  when the `with` block ends, or none does (any exception rolls them back and propagates).
  The block returns only once the commit is durable, so a write is answered after it.
- Isolation: writers are serialised on SQLite; PostgreSQL runs READ COMMITTED. So code that
  reads a row and writes from what it read either reads it with `lock=True` (`FOR UPDATE`
  on PostgreSQL) or writes with a compare-and-swap (`… WHERE version = ?`, checking the
  rowcount). Unique indexes refuse duplicates (`UniqueViolation`); a named counter
  (`next_number`) is taken under a row lock held until commit: numbers come out in
  commit order, never twice, and a rolled-back number was never seen by anyone.
  `append(table, key, rows)` inserts rows whose `key` grows in the order transactions
  commit (a feed, a journal: a reader following `key > cursor` never skips a row committed
  late); only `append` writes `key` (numbered by the counter `counter`, default `TABLE.KEY`).
- `store.transaction(durable=False)`: for what may be lost in a power cut but not in a crash
  of the process (the request journal): committed before the block returns, its flush to
  disk left to the next durable commit (SQLite `synchronous=NORMAL`, PostgreSQL
  `synchronous_commit=off`). Every write of the fakes' state is durable.
- `store.read()` is a read-only unit (one consistent snapshot of its statements);
  `store.read(snapshot=False)` and `store.query/one/scalar` run each statement on its own
  (one statement always sees one snapshot).
- SQL is one portable text: `?` placeholders, `ON CONFLICT`, `RETURNING`, no driver function;
  DDL writes `{id}` for an auto-numbered primary key, `{real}` for a float, `{bigint}`.
- Rows are plain dicts (column → value).
- `store.migrate(component, MIGRATIONS)` brings a component's tables to its last version at
  start, in one transaction (the `icarflex_schema` table keeps each component's version).
  A database holding tables that are not icarflex's, an icarflex store made before schema
  versions, or a version newer than this icarflex knows is refused (`StoreRefused`) and
  left as it is.
- Nothing correct depends on being the only process on a store: several processes (workers,
  `serve` instances) may share one.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from icarflex.mocks.common.jsonio import dumps, loads

Row = dict[str, Any]
Params = tuple[Any, ...] | list[Any]


class StoreError(Exception):
    """A store cannot be used as asked (one line, for the CLI)."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened."""


class StoreRefused(StoreError):
    """The database is not one this icarflex may use (another application's, an unknown version)."""


class UniqueViolation(StoreError):
    """A unique index refused the write."""


@dataclass(frozen=True)
class Migration:
    """One step of a component's schema: its DDL (statements separated by `;` at line ends)."""

    version: int
    ddl: str


class Transaction(Protocol):
    """One unit of work (see the module's contract)."""

    dialect: str

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; the rows it changed."""

    def executemany(self, sql: str, rows: list[Params]) -> None:
        """Run one statement for each row of parameters."""

    def query(self, sql: str, params: Params = (), *, lock: bool = False) -> list[Row]:
        """The rows of a SELECT; `lock`: held until commit against other writers (FOR UPDATE)."""

    def one(self, sql: str, params: Params = (), *, lock: bool = False) -> Row | None:
        """The first row of a SELECT, or None."""

    def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""

    def insert(self, table: str, values: dict[str, Any], *, returning: str | None = None) -> Any:
        """INSERT one row; the value of the `returning` column (an identity) if asked."""

    def next_number(self, name: str, count: int = 1) -> int:
        """Take `count` numbers of the named counter; the last one (never issued twice)."""

    def append(self, table: str, key: str, rows: list[dict[str, Any]], counter: str | None = None) -> int:
        """Insert `rows` (same columns), `key` numbered in commit order; the last key."""

    def script(self, ddl: str) -> None:
        """Run DDL statements inside this transaction."""


class Store(Protocol):
    dialect: str
    location: str  # what to show a user: the file, or the PostgreSQL host and database

    def transaction(self, durable: bool = True) -> AbstractContextManager[Transaction]: ...

    def read(self, snapshot: bool = True) -> AbstractContextManager[Transaction]: ...

    def query(self, sql: str, params: Params = ()) -> list[Row]: ...

    def one(self, sql: str, params: Params = ()) -> Row | None: ...

    def scalar(self, sql: str, params: Params = ()) -> Any: ...

    def migrate(self, component: str, migrations: list[Migration]) -> int: ...

    def close(self) -> None: ...


def is_postgres_url(db: str | Path | None) -> bool:
    return isinstance(db, str) and db.startswith(("postgresql://", "postgres://"))


def open_store(db: str | Path | None) -> Store:
    """The store `db` names (see the module's contract)."""
    if is_postgres_url(db):
        from icarflex.mocks.common.store.postgres import PostgresStore
        return PostgresStore(str(db))
    from icarflex.mocks.common.store.sqlite import SQLiteStore
    return SQLiteStore(db)


__all__ = ["Migration", "Row", "Store", "StoreError", "StoreRefused", "StoreUnavailable", "Transaction",
           "UniqueViolation", "dumps", "is_postgres_url", "loads", "open_store"]
