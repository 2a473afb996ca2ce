"""The request journal: every request and response, with actor, dealer and the contract's verdict.

Kept in the fake's SQLite store, bounded: past `JOURNAL_LIMIT` entries the oldest
are dropped. Backends add what only they know (`annotate(vehicle_before=…,
verdict=…)`); the checker audits these entries, exported as JSON lines.
"""
from __future__ import annotations

import json
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


def annotate(**fields: Any) -> None:
    """Add backend knowledge (vehicle_before, vehicle_id, verdict) to this request's entry.

    Outside a request (a backend driven directly, a seed at start-up) there is no entry: no-op.
    """
    if has_request_context():
        g.setdefault("journal", {}).update(fields)


def _request_body() -> Any:
    """The request body as journaled: JSON when it is, else its text; never fails the response."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not request.content_length and not chunked:
        return None
    try:
        raw = request.get_data(cache=True)
    except HTTPException:  # over MAX_CONTENT_LENGTH: left unread
        return {"_raw": f"(corps de {request.content_length} octets non lu : trop volumineux)"}
    if not raw:
        return None
    try:  # NaN / Infinity kept as text: the journal itself stays valid JSON
        return json.loads(raw, parse_constant=str)
    except ValueError:
        return {"_raw": raw[:2000].decode("utf-8", "replace")}


class Journal:
    def __init__(self, store: Store, system: str, limit: int) -> None:
        self.store, self.system, self.limit = store, system, limit
        self.table = f"journal_{system}"
        store.script(SCHEMA.format(system=system))
        self._writes = 0

    def record(self, response: Response) -> None:
        if not request.path.startswith("/api/"):
            return
        identity = g.get("identity")
        extra = g.get("journal", {})
        body = _request_body()
        is_json = response.is_json or response.mimetype.endswith("+json")
        reply = response.get_json(silent=True) if is_json else None
        row = (datetime.now(UTC).isoformat(timespec="milliseconds"),
               identity.dealer if identity else None, identity.actor if identity else None,
               request.method, request.path, request.query_string.decode() or None, dumps(body),
               response.status_code, dumps(reply), extra.get("vehicle_id"),
               dumps(extra.get("vehicle_before")), dumps(extra.get("verdict", [])))
        with self.store.transaction() as conn:
            conn.execute(f"INSERT INTO {self.table} (at, dealer, actor, method, path, query, request, "
                         "status, response, vehicle_id, vehicle_before, verdict) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row)
            self._writes += 1
            if self._writes % _TRIM_EVERY == 0:
                conn.execute(f"DELETE FROM {self.table} WHERE seq <= "
                             f"(SELECT MAX(seq) FROM {self.table}) - ?", (self.limit,))

    def entries(self, after: int = 0, limit: int = 1000, dealer: str | None = None) -> list[dict[str, Any]]:
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
                "query": row["query"], "request": loads(row["request"]), "status": row["status"],
                "response": loads(row["response"]), "vehicle_id": row["vehicle_id"],
                "vehicle_before": loads(row["vehicle_before"]), "verdict": loads(row["verdict"]) or []}

    def clear(self) -> None:
        with self.store.transaction() as conn:
            conn.execute(f"DELETE FROM {self.table}")


def install(app: Flask, journal: Journal) -> None:
    @app.after_request
    def _record(response: Response) -> Response:
        journal.record(response)
        return response
