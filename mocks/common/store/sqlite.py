"""The SQLite store: the embedded default, one file in WAL mode (see the package's contract).

Durability: `journal_mode=WAL` with `synchronous=FULL`: a commit returns once its WAL frames
are fsync'ed, so an answered write survives a kill -9 of the process and a power cut of the
machine alike, as on PostgreSQL's defaults (docs/decisions.md says why, and what it costs).
`transaction(durable=False)` (the request journal) commits on a connection with
`synchronous=NORMAL`: written to the WAL before it returns, so it survives a kill -9 of the
process, and fsync'ed with the next durable commit (a power cut may lose what came after it).

Several processes may share a file: `BEGIN IMMEDIATE` takes SQLite's write lock at the start
of each unit of work, so writers of every process are serialised by SQLite itself and a
read-then-write is never interleaved with another write. The threads of one process queue on
a lock of their own before it, so that they do not spin in SQLite's busy wait: that lock is
for speed only, correctness comes from SQLite's.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from icarflex.mocks.common.files import create_private
from icarflex.mocks.common.store import (
    Migration,
    Params,
    Row,
    StoreError,
    StoreRefused,
    StoreUnavailable,
    UniqueViolation,
)
from icarflex.mocks.common.store.schema import SqlUnit, migrate, statements

BUSY_TIMEOUT_S = 30.0  # another process's writer: wait this long for SQLite's lock
TOKENS = {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "real": "REAL", "bigint": "INTEGER"}


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def _translate(exc: sqlite3.Error, location: str) -> StoreError:
    if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc):
        return UniqueViolation(str(exc))
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
        return StoreRefused(f"{location} : ce fichier n'est pas une base SQLite ; "
                            "refusé, rien n'y a été modifié")
    if isinstance(exc, sqlite3.OperationalError) and "unable to open" in str(exc):
        return StoreUnavailable(f"{location} : ouverture impossible ({exc})")
    return StoreError(f"{location} : {exc}")


class _Tx(SqlUnit):
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, location: str) -> None:
        self._conn, self._location = conn, location

    def _run(self, sql: str, params: Params) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise _translate(exc, self._location) from exc

    def execute(self, sql: str, params: Params = ()) -> int:
        return self._run(sql, params).rowcount

    def executemany(self, sql: str, rows: list[Params]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise _translate(exc, self._location) from exc

    def query(self, sql: str, params: Params = (), *, lock: bool = False) -> list[Row]:
        return self._run(sql, params).fetchall()  # lock: writers are serialised already

    def one(self, sql: str, params: Params = (), *, lock: bool = False) -> Row | None:
        return self._run(sql, params).fetchone()

    def script(self, ddl: str) -> None:
        for statement in statements(ddl.format(**TOKENS)):
            self._run(statement, ())


class SQLiteStore:
    dialect = "sqlite"

    def __init__(self, path: str | Path | None) -> None:
        self.temporary = path is None
        if path is None:
            handle = tempfile.NamedTemporaryFile(prefix="icarflex-", suffix=".sqlite3", delete=False)
            handle.close()
            path = handle.name
        if str(path) == ":memory:":
            raise StoreUnavailable("une base SQLite est un fichier (--db CHEMIN) : « :memory: » "
                                   "n'est pas partagé entre les fils d'exécution")
        self.path = str(path)
        self.location = f"base SQLite {self.path}"
        try:
            create_private(self.path)  # 0600: its WAL and shared memory get the same mode
        except OSError as exc:
            raise StoreUnavailable(f"{self.location} : dossier impossible à créer ({exc.strerror})") from exc
        self._local = threading.local()  # this thread's connections: durable (FULL), journal (NORMAL)
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._writers = threading.Lock()  # this process's writers queue here (speed only, see above)
        self._closed = False
        weakref.finalize(self, _close_all, self._connections, self.path if self.temporary else None)
        self._connection()  # fail now on a file that cannot be opened or is not a database

    def _connection(self, durable: bool = True) -> sqlite3.Connection:
        name = "conn" if durable else "light"
        conn = getattr(self._local, name, None)
        if conn is None:
            if self._closed:
                raise StoreUnavailable(f"{self.location} : fermée")
            try:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                       check_same_thread=False)
                conn.row_factory = _dict_row
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
                conn.execute("PRAGMA foreign_keys=ON")
            except sqlite3.Error as exc:
                raise _translate(exc, self.location) from exc
            setattr(self._local, name, conn)
            with self._guard:
                self._connections.append(conn)
        return conn

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[_Tx]:
        conn = self._connection(durable)
        with self._writers:
            self._begin(conn, "BEGIN IMMEDIATE")
            try:
                yield _Tx(conn, self.location)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise _translate(exc, self.location) from exc

    @contextmanager
    def read(self, snapshot: bool = True) -> Iterator[_Tx]:
        conn = self._connection()
        if not snapshot:  # each statement its own snapshot: no BEGIN, no COMMIT
            yield _Tx(conn, self.location)
            return
        self._begin(conn, "BEGIN")
        try:
            yield _Tx(conn, self.location)
        finally:
            conn.execute("COMMIT")

    def _begin(self, conn: sqlite3.Connection, statement: str) -> None:
        try:
            conn.execute(statement)
        except sqlite3.Error as exc:
            raise _translate(exc, self.location) from exc

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        return _Tx(self._connection(), self.location).query(sql, params)

    def one(self, sql: str, params: Params = ()) -> Row | None:
        return _Tx(self._connection(), self.location).one(sql, params)

    def scalar(self, sql: str, params: Params = ()) -> Any:
        return _Tx(self._connection(), self.location).scalar(sql, params)

    def migrate(self, component: str, migrations: list[Migration]) -> int:
        with self.transaction() as tx:  # BEGIN IMMEDIATE: the schema lock, across processes too
            return migrate(tx, component, migrations, lambda: self._tables(tx), self.location)

    @staticmethod
    def _tables(tx: _Tx) -> set[str]:
        rows = tx.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        return {row["name"] for row in rows}

    def close(self) -> None:
        self._closed = True
        _close_all(self._connections, None)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"


def _close_all(connections: list[sqlite3.Connection], temporary: str | None) -> None:
    for conn in list(connections):
        with contextlib.suppress(sqlite3.Error):
            conn.close()
    connections.clear()
    if temporary:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.unlink(temporary + suffix)
