"""The request journal: every request and response, with actor, dealer and the contract's verdict.

Kept in the fake's store (either backend), bounded: past `JOURNAL_LIMIT` entries the oldest
are dropped. Each entry is committed before its response leaves (`after_request`): a reader
of the journal in any process (another worker, another `serve` on the same store) sees
every request answered so far, and a crash of the process loses none that was answered (a
power cut may lose the entries after the last durable write: `transaction(durable=False)`). Bodies are kept
as raw text, parsed only when the journal is read. An entry's `seq` comes from the store's
counter, taken in its transaction and locked until its commit, so entries appear in `seq`
order on every backend (a reader following `after` skips none).
Backends add what only they know (`annotate(vehicle_before=…, verdict=…)`); the checker
audits these entries, exported as JSON lines.
"""
from __future__ import annotations

import json
import time
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
_TRIM_EVERY = 200  # entries between two trims (a DELETE of those past the limit)


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

    def record(self, response: Response) -> None:
        """Commit this request's entry (before its response is sent)."""
        req = request._get_current_object()  # type: ignore[attr-defined]
        if not req.path.startswith("/api/"):
            return
        context = g._get_current_object()  # type: ignore[attr-defined]
        mimetype = response.mimetype or ""
        is_json = mimetype == "application/json" or mimetype.endswith("+json")
        reply = response.get_data() if is_json and not response.is_streamed else None
        row = _row(time.time(), getattr(context, "identity", None), req.method, req.path, req.query_string,
                   _request_body(req), response.status_code, reply, getattr(context, "journal", None) or {})
        with self.store.transaction(durable=False) as tx:  # see the store: a crash of serve loses none
            seq = tx.append(self.table, "seq", [dict(zip(_COLUMNS, row, strict=True))], counter=self.table)
            if seq % _TRIM_EVERY == 0:
                tx.execute(f"DELETE FROM {self.table} WHERE seq <= ?", (seq - self.limit,))

    def flush(self) -> None:
        """Nothing to write: every entry is committed with its request (kept for callers)."""

    def entries(self, after: int = 0, limit: int = 1000, dealer: str | None = None) -> list[dict[str, Any]]:
        """Up to `limit` entries after the cursor `after`, oldest first (every entry, by cursor)."""
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
        with self.store.transaction() as tx:
            tx.execute(f"DELETE FROM {self.table}")


def _row(at: float, identity: Any, method: str, path: str, query: bytes, body: bytes | str | None,
         status: int, reply: bytes | None, extra: dict[str, Any]) -> tuple[Any, ...]:
    """A kept entry as the journal table's row."""
    return (datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds"),
            identity.dealer if identity else None, identity.actor if identity else None,
            method, path, query.decode() or None, _text(body), status, _text(reply) or None,
            extra.get("vehicle_id"), dumps(extra.get("vehicle_before")), dumps(extra.get("verdict", [])))


def install(app: Flask, journal: Journal) -> None:
    @app.after_request
    def _record(response: Response) -> Response:
        journal.record(response)
        return response
