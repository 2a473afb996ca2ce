"""The request journal: every request and response, with actor, dealer and the contract's verdict.

Kept in the fake's SQLite store, bounded: past `JOURNAL_LIMIT` entries the oldest
are dropped. Recording stays off the request's critical path: an entry is kept as raw
text (bodies are parsed only when the journal is read) and written in batches, one
transaction per batch, flushed before any read and at exit. Backends add what only they know (`annotate(vehicle_before=…,
verdict=…)`); the checker audits these entries, exported as JSON lines.
"""
from __future__ import annotations

import atexit
import json
import threading
import time
import weakref
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from werkzeug.exceptions import HTTPException

from mocks.common.store import Store, dumps, loads

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal_{system} (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL, dealer TEXT, actor TEXT, method TEXT NOT NULL, path TEXT NOT NULL,
    query TEXT, request TEXT, status INTEGER NOT NULL, response TEXT,
    vehicle_id TEXT, vehicle_before TEXT, verdict TEXT
);
"""
_TRIM_EVERY = 200
_BATCH = 64          # entries written per transaction
_MAX_AGE = 0.5       # seconds an entry may wait for its batch


def annotate(**fields: Any) -> None:
    """Add backend knowledge (vehicle_before, vehicle_id, verdict) to this request's entry.

    Outside a request (a backend driven directly, a seed at start-up) there is no entry: no-op.
    """
    if has_request_context():
        g.setdefault("journal", {}).update(fields)


def _request_text() -> str | None:
    """The request body as journaled: its raw text (parsed when read); never fails the response."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not request.content_length and not chunked:
        return None
    try:
        raw = request.get_data(cache=True)
    except HTTPException:  # over MAX_CONTENT_LENGTH: left unread
        return dumps({"_raw": f"(corps de {request.content_length} octets non lu : trop volumineux)"})
    return raw.decode("utf-8", "replace") if raw else None


def _parse(text: str | None) -> Any:
    """A journaled body: JSON when it is (NaN / Infinity kept as text), else its first 2,000 chars."""
    if text is None:
        return None
    try:
        return json.loads(text, parse_constant=str)
    except ValueError:
        return {"_raw": text[:2000]}


class Journal:
    def __init__(self, store: Store, system: str, limit: int) -> None:
        self.store, self.system, self.limit = store, system, limit
        self.table = f"journal_{system}"
        store.script(SCHEMA.format(system=system))
        self._writes = 0
        self._pending: list[tuple[Any, ...]] = []
        self._oldest = 0.0
        self._flush_lock = threading.Lock()
        _flush_at_exit(self)

    def record(self, response: Response) -> None:
        if not request.path.startswith("/api/"):
            return
        identity = g.get("identity")
        extra = g.get("journal", {})
        is_json = response.is_json or response.mimetype.endswith("+json")
        reply = response.get_data(as_text=True) if is_json and not response.is_streamed else None
        row = (datetime.now(UTC).isoformat(timespec="milliseconds"),
               identity.dealer if identity else None, identity.actor if identity else None,
               request.method, request.path, request.query_string.decode() or None, _request_text(),
               response.status_code, reply or None, extra.get("vehicle_id"),
               extra.get("vehicle_before"), extra.get("verdict", []))  # serialised at flush
        if not self._pending:
            self._oldest = time.monotonic()
        self._pending.append(row)
        if len(self._pending) >= _BATCH or time.monotonic() - self._oldest > _MAX_AGE:
            self.flush()

    def flush(self) -> None:
        """Write the pending entries, in one transaction."""
        with self._flush_lock:
            pending, self._pending = self._pending, []
            if not pending:
                return
            rows = [(*row[:-2], dumps(row[-2]), dumps(row[-1])) for row in pending]
            with self.store.transaction() as conn:
                conn.executemany(f"INSERT INTO {self.table} (at, dealer, actor, method, path, query, "
                                 "request, status, response, vehicle_id, vehicle_before, verdict) "
                                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
                before, self._writes = self._writes, self._writes + len(rows)
                if before // _TRIM_EVERY != self._writes // _TRIM_EVERY:
                    conn.execute(f"DELETE FROM {self.table} WHERE seq <= "
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

    def _entry(self, row: Any) -> dict[str, Any]:
        return {"seq": row["seq"], "at": row["at"], "system": self.system, "dealer": row["dealer"],
                "actor": row["actor"], "method": row["method"], "path": row["path"],
                "query": row["query"], "request": _parse(row["request"]), "status": row["status"],
                "response": _parse(row["response"]), "vehicle_id": row["vehicle_id"],
                "vehicle_before": loads(row["vehicle_before"]), "verdict": loads(row["verdict"]) or []}

    def clear(self) -> None:
        with self._flush_lock:
            self._pending = []
        with self.store.transaction() as conn:
            conn.execute(f"DELETE FROM {self.table}")


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
