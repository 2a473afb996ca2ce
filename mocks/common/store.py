"""The embedded SQLite store: one small interface both fakes use.

A file by default (a demo survives a restart), a temporary file in tests. Each
thread gets its own connection; `transaction()` wraps a write in BEGIN IMMEDIATE …
COMMIT, rolled back whole on any error, so a refused write leaves nothing behind.
"""
from __future__ import annotations

import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mocks.common.jsonio import dumps, loads


class Store:
    def __init__(self, path: str | Path | None, schema: str) -> None:
        if path is None:
            handle = tempfile.NamedTemporaryFile(prefix="icarflex-", suffix=".sqlite3", delete=False)
            handle.close()
            path = handle.name
            self.temporary = True
        else:
            self.temporary = False
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()  # serialises writers inside this process
        self.script(schema)

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def script(self, sql: str) -> None:
        """Run DDL (CREATE … IF NOT EXISTS); `executescript` commits on its own, so not in a transaction."""
        with self._lock:
            self.connection().executescript(sql)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.connection()
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return self.connection().execute(sql, params).fetchall()

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Row | None:
        return self.connection().execute(sql, params).fetchone()


__all__ = ["Store", "dumps", "loads"]
