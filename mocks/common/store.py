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

Writes decided from that knowledge may be **deferred** (`defer`): taken under `state_lock`
from a state this process knows current, they are answered at once and written by a
background thread within milliseconds, several writes of one key in one statement. Every
reader first waits for them (`connection()` applies what is pending), every other writer
too, and so does the end of the process: what any reader sees is what was answered. What a
crash of the process (kill -9) may lose is the last few milliseconds of them, as with the
journal's last batch (docs/decisions.md).
"""
from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sqlite3
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from icarflex.mocks.common.files import FILE_MODE, create_private
from icarflex.mocks.common.jsonio import dumps, loads

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, one process per file is on the user
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
_GATHER_S = 0.002  # how long the background writer lets deferred writes gather before a round
Take = Callable[[], Callable[[sqlite3.Connection], None]]  # called under state_lock: what to write


@dataclass(frozen=True)
class Written:
    rowcount: int
    generation: int


class StoreInUse(OSError):
    """The store file is served by another process."""


class _Claim:
    """This process's hold on one store file: its locks, its count of committed writes, and the
    writes answered but not yet stored (`deferred`)."""

    def __init__(self, path: str) -> None:
        self.path, self.users, self.generation = path, 0, 0
        # SQLite wants one writer at a time: this process's writers queue here, not in its busy wait.
        self.sql_lock = threading.Lock()
        # The state's lock: a writer holds it from its first read to its commit, and a deferral
        # from the check of what it knows to its queueing. Taken after `sql_lock`, never before.
        self.write_lock = threading.Lock()
        self.deferred: dict[Hashable, Take] = {}  # key → what to write (under write_lock)
        self.writing_deferred = False              # taken from `deferred`, not yet committed
        self.fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, FILE_MODE)
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

    def apply_deferred(self, conn: sqlite3.Connection, *, locked: bool = False) -> None:
        """Write what is deferred, in one transaction. Called holding `sql_lock`, and `write_lock`
        when `locked` (a writer about to read the state: nothing is deferred until it commits)."""
        if not self.deferred:  # exact when `locked`; else one deferred just now comes after this call
            return
        with contextlib.nullcontext() if locked else self.write_lock:
            if not self.deferred:
                return
            self.writing_deferred = True  # before they leave `deferred`: a reader sees one or the other
            taken, self.deferred = list(self.deferred.values()), {}
            try:
                writes = [take() for take in taken]
            except BaseException:
                self.writing_deferred = False
                raise
        try:
            if len(writes) == 1:
                writes[0](conn)
            else:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for write in writes:
                        write(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        finally:
            self.writing_deferred = False


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
            if claim.deferred and not temporary:  # the last store of the file is gone: write them now
                _apply_on_own_connection(claim)
            claim.deferred = {}
            os.close(claim.fd)  # the lock goes with it
            if temporary:  # a temporary store's files go too
                for suffix in ("", "-wal", "-shm", ".lock"):
                    with contextlib.suppress(OSError):
                        os.unlink(temporary + suffix)


def _apply_on_own_connection(claim: _Claim) -> None:
    try:
        conn = sqlite3.connect(claim.path, timeout=30, isolation_level=None)
        try:
            with claim.sql_lock:
                claim.apply_deferred(conn)
        finally:
            conn.close()
    except Exception:  # noqa: BLE001 - at exit or in a finalizer: say it, lose the rest
        log.exception("écritures différées non enregistrées dans %s", claim.path)


def _apply_all_at_exit() -> None:
    with _CLAIMS_LOCK:
        claims = [claim for claim in _CLAIMS.values() if claim.deferred]
    for claim in claims:
        _apply_on_own_connection(claim)


atexit.register(_apply_all_at_exit)


class _Writer:
    """One daemon thread writing every store's deferred writes, a few milliseconds after them."""

    def __init__(self) -> None:
        self._claims: dict[int, tuple[_Claim, weakref.ref[Store]]] = {}
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wake(self, store: Store) -> None:
        claim = store._claim
        entry = self._claims.get(id(claim))
        if entry is None or entry[1]() is None:
            with self._lock:
                self._claims[id(claim)] = (claim, weakref.ref(store))
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="icarflex:store", daemon=True)
                    self._thread.start()
        if not self._wake.is_set():
            self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(_GATHER_S)
            self._wake.clear()
            with self._lock:
                items = list(self._claims.items())
            for key, (claim, ref) in items:
                store = ref()
                try:
                    if store is not None:
                        store.sync()
                    elif claim.deferred:  # its store is gone, the file's claim is not
                        _apply_on_own_connection(claim)
                except Exception:  # noqa: BLE001 - the next reader retries, and says it
                    log.exception("écritures différées non enregistrées dans %s", claim.path)
                del store
                with self._lock:
                    if not claim.deferred and self._claims.get(key, (None,))[0] is claim:
                        del self._claims[key]


_WRITER = _Writer()


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
        create_private(path)  # 0600: its WAL and shared memory get the same mode
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

    @property
    def state_lock(self) -> threading.Lock:
        """Held by every writer of the state: hold it to decide a write from what this process knows."""
        return self._claim.write_lock

    def defer(self, key: Hashable, take: Take) -> None:
        """Queue a write (with `state_lock` held): `take()`, called later under the lock, returns the
        statement(s) to run; a key already queued keeps one entry (its `take` covers all of them)."""
        self._claim.deferred[key] = take
        _WRITER.wake(self)

    def sync(self) -> None:
        """Write every deferred write now (readers and writers call it first)."""
        claim = self._claim
        if claim.deferred or claim.writing_deferred:
            with claim.sql_lock:
                claim.apply_deferred(self._connection())

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, once every deferred write is in the file (to read it)."""
        conn = self._connection()
        claim = self._claim
        if claim.deferred or claim.writing_deferred:
            self.sync()
        return conn

    def _connection(self) -> sqlite3.Connection:
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
        conn = self._connection()
        with self._claim.sql_lock, self._lock:
            self._claim.apply_deferred(conn, locked=True)
            try:
                conn.executescript(sql)
            finally:
                self._claim.bump()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, after every deferred write; rolled back whole on any error."""
        conn = self._connection()
        with self._claim.sql_lock, self._lock:
            self._claim.apply_deferred(conn, locked=True)
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
        conn = self._connection()
        claim = self._claim
        with claim.sql_lock:
            if not invalidates:  # the journal: no state read or written, no need to wait for any
                return Written(conn.execute(sql, params).rowcount, claim.generation)
            with self._lock:
                claim.apply_deferred(conn, locked=True)
                try:
                    rowcount = conn.execute(sql, params).rowcount
                finally:
                    claim.bump()
                return Written(rowcount, claim.generation)

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return self.connection().execute(sql, params).fetchall()

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Row | None:
        return self.connection().execute(sql, params).fetchone()


__all__ = ["Store", "StoreInUse", "Written", "dumps", "loads"]
