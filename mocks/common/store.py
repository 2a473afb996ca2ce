"""The embedded SQLite store: one small interface both fakes use.

A file by default (a demo survives a restart), a temporary file in tests. Each
thread gets its own connection; `transaction()` wraps a write in BEGIN IMMEDIATE …
COMMIT, rolled back whole on any error, so a refused write leaves nothing behind;
`write()` runs a write that is one statement (atomic on its own) in one round trip.

A store file is served by one process at a time: the first to open it holds an exclusive
lock on `<file>.lock` until it exits, and another process opening it gets `StoreInUse`
(naming the holder). So every write to the file passes through this process, and
`generation` — the count of committed writes from this process — tells a cache whether
anything may have changed since it last read the store, without asking SQLite: each call
into SQLite lets another thread take the interpreter, and under load that hand-over, not
SQLite, was the largest cost of a request (see benchmarks/).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mocks.common.jsonio import dumps, loads

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, one process per file is on the user
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Written:
    rowcount: int
    generation: int


class StoreInUse(OSError):
    """The store file is served by another process."""


class _Claim:
    """This process's hold on one store file: the lock, and its count of committed writes."""

    def __init__(self, path: str) -> None:
        self.path, self.users, self.generation = path, 0, 0
        self.write_lock = threading.Lock()  # serialises this process's writers of the file
        self.fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(self.fd, 32, 0).decode(errors="replace").strip() or "?"
                os.close(self.fd)
                raise StoreInUse(f"la base {path} est déjà servie par un autre processus (PID {holder}) : "
                                 "arrêtez-le ou choisissez une autre base (--db)") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)

    def bump(self) -> None:
        """Called with `write_lock` held, after a commit."""
        self.generation += 1


_CLAIMS: dict[str, _Claim] = {}
_CLAIMS_LOCK = threading.Lock()


def _claim(path: str) -> _Claim:
    with _CLAIMS_LOCK:
        claim = _CLAIMS.get(path)
        if claim is None:
            claim = _CLAIMS[path] = _Claim(path)
        claim.users += 1
        return claim


def _release(claim: _Claim, temporary: str | None) -> None:
    with _CLAIMS_LOCK:
        claim.users -= 1
        if claim.users == 0 and _CLAIMS.get(claim.path) is claim:
            del _CLAIMS[claim.path]
            os.close(claim.fd)  # the lock goes with it
            if temporary:  # a temporary store's files go too
                for suffix in ("", "-wal", "-shm", ".lock"):
                    with contextlib.suppress(OSError):
                        os.unlink(temporary + suffix)


class Store:
    def __init__(self, path: str | Path | None, schema: str) -> None:
        if path is None:
            handle = tempfile.NamedTemporaryFile(prefix="icarflex-", suffix=".sqlite3", delete=False)
            handle.close()
            path = handle.name
            self.temporary = True
        else:
            self.temporary = False
        if str(path) == ":memory:":
            raise ValueError("a store is a file (each thread has its own connection to it)")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        # Several stores of one process on one file (both fakes, an app built again) share a claim.
        self._claim = _claim(os.path.realpath(self.path))
        weakref.finalize(self, _release, self._claim, self.path if self.temporary else None)
        self._local = threading.local()
        self._lock = self._claim.write_lock  # one writer at a time, as SQLite wants, without its busy wait
        self.script(schema)

    @property
    def generation(self) -> int:
        """Committed writes to the file so far (from any store of this process, the only writer)."""
        return self._claim.generation

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            # A fake's data is test data: safe from a crash of the process (WAL), not from a power
            # cut of the machine; no fsync saves a third of a write (benchmarks/).
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def script(self, sql: str) -> None:
        """Run DDL (CREATE … IF NOT EXISTS); `executescript` commits on its own, so not in a transaction."""
        with self._lock:
            try:
                self.connection().executescript(sql)
            finally:
                self._claim.bump()

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
            try:
                conn.execute("COMMIT")
            finally:
                self._claim.bump()  # after the commit: a reader never stamps a state not yet seen

    def write(self, sql: str, params: tuple[Any, ...] = (), *, invalidates: bool = True) -> Written:
        """One write statement in its own (implicit) transaction: one round trip to SQLite.

        Returns the rows it changed and the `generation` just after it (what a cache may stamp
        the written state with). `invalidates=False`: the statement only touches tables no cache
        reads (the journal), so it leaves `generation` as it is.
        """
        conn = self.connection()
        with self._lock:
            try:
                rowcount = conn.execute(sql, params).rowcount
            finally:
                if invalidates:
                    self._claim.bump()
            return Written(rowcount, self._claim.generation)

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return self.connection().execute(sql, params).fetchall()

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Row | None:
        return self.connection().execute(sql, params).fetchone()


__all__ = ["Store", "StoreInUse", "Written", "dumps", "loads"]
