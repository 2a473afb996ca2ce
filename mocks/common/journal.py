"""The request journal: every request and response, with actor, dealer and the contract's verdict.

Kept in the fake's store (either backend), bounded: past `JOURNAL_LIMIT` entries the oldest
are dropped. Recording stays off the request's critical path: an entry is kept as raw
text (bodies are parsed only when the journal is read) and written in batches by one
background thread (`_Flusher`), one statement per batch, about `_MAX_AGE` after it was
taken at most; a read of the journal flushes first, and so does the end of the process.
A request thread never waits for SQLite here: each call into SQLite lets another thread
take the interpreter, and under load that hand-over cost a request more than the write.
Backends add what only they know (`annotate(vehicle_before=…, verdict=…)`); the checker
audits these entries, exported as JSON lines.
"""
from __future__ import annotations

import atexit
import json
import logging
import threading
import time
import weakref
from collections import deque
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Flask, Request, Response, g, has_request_context, request
from icarflex.mocks.common.store import Migration, Store, dumps, loads
from werkzeug.exceptions import HTTPException


def migrations(system: str) -> list[Migration]:
    """The journal table of one fake (`{id}`: the store's auto-numbered key)."""
    return [Migration(1, f"""
CREATE TABLE journal_{system} (
    seq {{id}},
    at TEXT NOT NULL, dealer TEXT, actor TEXT, method TEXT NOT NULL, path TEXT NOT NULL,
    query TEXT, request TEXT, status INTEGER NOT NULL, response TEXT,
    vehicle_id TEXT, vehicle_before TEXT, verdict TEXT
);
CREATE INDEX journal_{system}_dealer ON journal_{system} (dealer, seq);
""")]
_COLUMNS = ("at", "dealer", "actor", "method", "path", "query", "request", "status", "response", "vehicle_id",
            "vehicle_before", "verdict")
_ROW_MARKS = f"({','.join('?' * len(_COLUMNS))})"
_ROWS_PER_STATEMENT = 500  # 6,000 parameters: far below SQLite's limit (32,766) and PostgreSQL's
_TRIM_EVERY = 200
_BATCH = 64          # entries that wake the flusher
_MAX_AGE = 0.5       # seconds an entry may wait for its batch
log = logging.getLogger(__name__)


class _Flusher:
    """One daemon thread writing every journal's batches (one for the process, however many apps)."""

    def __init__(self) -> None:
        self._journals: weakref.WeakSet[Journal] = weakref.WeakSet()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, journal: Journal) -> None:
        with self._lock:
            self._journals.add(journal)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="icarflex:journal", daemon=True)
                self._thread.start()

    def wake(self) -> None:
        if not self._wake.is_set():
            self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait(_MAX_AGE)
            self._wake.clear()
            with self._lock:
                journals = list(self._journals)
            for journal in journals:
                if journal._pending:
                    try:
                        journal.flush()
                    except Exception:  # noqa: BLE001 - a store gone away (a test's): the next read says so
                        log.warning("journal %s not flushed", journal.table, exc_info=True)
            del journals


_FLUSHER = _Flusher()


def annotate(**fields: Any) -> None:
    """Add backend knowledge (vehicle_before, vehicle_id, verdict) to this request's entry.

    Outside a request (a backend driven directly, a seed at start-up) there is no entry: no-op.
    """
    if has_request_context():
        g.setdefault("journal", {}).update(fields)


def _request_body(req: Request) -> bytes | str | None:
    """The request body as journaled: its raw bytes (decoded, then parsed, later); never fails
    the response."""
    environ = req.environ  # read raw: `req.content_length` parses it again for every request
    if environ.get("CONTENT_LENGTH", "").strip("0 ") == "" and \
            "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None  # absent or zero (an unreadable length reads as no body below too)
    try:
        return req.get_data(cache=True) or None
    except HTTPException:  # over MAX_CONTENT_LENGTH: left unread
        return dumps({"_raw": f"(corps de {req.content_length} octets non lu : trop volumineux)"})


def _text(raw: bytes | str | None) -> str | None:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def _parse(text: str | None) -> Any:
    """A journaled body: JSON when it is (NaN / Infinity kept as text), else its first 2,000 chars."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:  # NaN / Infinity, a huge int: the stdlib reads them
        value = json.loads(text, parse_constant=str)
        orjson.dumps(value)  # a lone surrogate reads but cannot be written back: keep it as text
        return value
    except (ValueError, TypeError):
        return {"_raw": text[:2000]}


class Journal:
    def __init__(self, store: Store, system: str, limit: int) -> None:
        self.store, self.system, self.limit = store, system, limit
        self.table = f"journal_{system}"
        store.migrate(self.table, migrations(system))
        self._writes = 0
        self._pending: deque[tuple[Any, ...]] = deque()
        self._oldest = 0.0
        self._flush_lock = threading.Lock()
        _flush_at_exit(self)
        _FLUSHER.add(self)

    def record(self, response: Response) -> None:
        """Keep this request's entry: only what must be taken now (the rest is shaped at flush)."""
        req = request._get_current_object()  # type: ignore[attr-defined]
        if not req.path.startswith("/api/"):
            return
        context = g._get_current_object()  # type: ignore[attr-defined]
        mimetype = response.mimetype or ""
        is_json = mimetype == "application/json" or mimetype.endswith("+json")
        reply = response.get_data() if is_json and not response.is_streamed else None
        now = time.monotonic()
        if not self._pending:
            self._oldest = now
        self._pending.append((time.time(), getattr(context, "identity", None), req.method, req.path,
                              req.query_string, _request_body(req), response.status_code, reply,
                              getattr(context, "journal", None) or {}))
        if len(self._pending) >= _BATCH or now - self._oldest > _MAX_AGE:
            _FLUSHER.wake()

    def flush(self) -> None:
        """Write the pending entries now (the flusher does it in the background; a reader first)."""
        with self._flush_lock:
            pending, queue = [], self._pending
            while queue:  # popleft, not a swap: an entry appended meanwhile is never lost
                pending.append(queue.popleft())
            if not pending:
                return
            # One statement per batch (a row of values per entry): one round trip to the store.
            before, self._writes = self._writes, self._writes + len(pending)
            with self.store.transaction() as tx:
                for start in range(0, len(pending), _ROWS_PER_STATEMENT):
                    chunk = pending[start:start + _ROWS_PER_STATEMENT]
                    tx.execute(f"INSERT INTO {self.table} ({', '.join(_COLUMNS)}) VALUES "
                               + ",".join([_ROW_MARKS] * len(chunk)),
                               tuple(v for entry in chunk for v in _row(*entry)))
                if before // _TRIM_EVERY != self._writes // _TRIM_EVERY:
                    tx.execute(f"DELETE FROM {self.table} WHERE seq <= "
                               f"(SELECT MAX(seq) FROM {self.table}) - ?", (self.limit,))

    def entries(self, after: int = 0, limit: int = 1000, dealer: str | None = None) -> list[dict[str, Any]]:
        self.flush()
        sql = f"SELECT * FROM {self.table} WHERE seq > ?"
        params: list[Any] = [after]
        if dealer:
            sql += " AND dealer = ?"
            params.append(dealer)
        # Entries past the limit may linger until the next trim; never show them.
        sql += f" AND seq > (SELECT COALESCE(MAX(seq), 0) FROM {self.table}) - ? ORDER BY seq LIMIT ?"
        params += [self.limit, limit]
        return [self._entry(row) for row in self.store.query(sql, tuple(params))]

    def tail(self, limit: int = 100, dealer: str | None = None) -> list[dict[str, Any]]:
        """The last `limit` entries (of `dealer`), oldest first: where a live view starts."""
        self.flush()
        sql, params = f"SELECT * FROM {self.table}", []
        if dealer:
            sql, params = sql + " WHERE dealer = ?", [dealer]
        rows = self.store.query(sql + " ORDER BY seq DESC LIMIT ?", (*params, limit))
        return [self._entry(row) for row in reversed(rows)]

    def _entry(self, row: Any) -> dict[str, Any]:
        return {"seq": row["seq"], "at": row["at"], "system": self.system, "dealer": row["dealer"],
                "actor": row["actor"], "method": row["method"], "path": row["path"],
                "query": row["query"], "request": _parse(row["request"]), "status": row["status"],
                "response": _parse(row["response"]), "vehicle_id": row["vehicle_id"],
                "vehicle_before": loads(row["vehicle_before"]), "verdict": loads(row["verdict"]) or []}

    def clear(self) -> None:
        with self._flush_lock:
            self._pending.clear()
        with self.store.transaction() as tx:
            tx.execute(f"DELETE FROM {self.table}")


def _row(at: float, identity: Any, method: str, path: str, query: bytes, body: bytes | str | None,
         status: int, reply: bytes | None, extra: dict[str, Any]) -> tuple[Any, ...]:
    """A kept entry as the journal table's row."""
    return (datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds"),
            identity.dealer if identity else None, identity.actor if identity else None,
            method, path, query.decode() or None, _text(body), status, _text(reply) or None,
            extra.get("vehicle_id"), dumps(extra.get("vehicle_before")), dumps(extra.get("verdict", [])))


def _flush_at_exit(journal: Journal) -> None:
    """Flush a journal's last batch when the process ends, without keeping the journal alive."""
    ref = weakref.ref(journal)

    def flush() -> None:
        alive = ref()
        if alive is not None:
            try:
                alive.flush()
            except Exception:  # noqa: BLE001 - a store already closed at exit: nothing to save
                pass
    atexit.register(flush)


def install(app: Flask, journal: Journal) -> None:
    @app.after_request
    def _record(response: Response) -> Response:
        journal.record(response)
        return response
