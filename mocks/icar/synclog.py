"""The sync log: one entry per call the connector made to OpenFlex, never swallowed.

An entry is one logical call (a read, or a write with its retries): method, URL,
path, body sent, final HTTP status, OpenFlex's problem when it refused, how many
times the request was sent (`attempts`), every HTTP exchange it took (`tries`,
including the re-reads that check whether a timed-out write landed) and the
`outcome`: OK, REFUSED (4xx, not retried) or FAILED (unreachable, timeouts or 5xx
after the bounded retries), and the outbox operation (`outbox_id`) the call was made for.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from icarflex.mocks.common.jsonio import dumps, loads
from icarflex.mocks.common.store import Store, Transaction

OK, REFUSED, FAILED = "OK", "REFUSED", "FAILED"


@dataclass(frozen=True)
class CallContext:
    """Who a connector call is for: the dealer, the DMS record and the operation."""

    dealer: str
    operation: str
    record_id: str | None = None
    openflex_id: str | None = None
    outbox_id: int | None = None


@dataclass
class SyncEntry:
    context: CallContext
    method: str
    url: str
    path: str
    body: Any
    status: int | None = None
    problem: Any = None
    attempts: int = 0
    outcome: str = FAILED
    error: str | None = None
    tries: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: int = 0
    id: int | None = None


class SyncLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def append(self, entry: SyncEntry) -> int:
        c = entry.context
        with self.store.transaction() as unit:
            entry.id = int(unit.insert("icar_sync_log", {
                "at": now(), "dealer": c.dealer, "record_id": c.record_id, "openflex_id": c.openflex_id,
                "operation": c.operation, "outbox_id": c.outbox_id, "method": entry.method, "url": entry.url,
                "path": entry.path, "body": dumps(entry.body), "status": entry.status,
                "problem": dumps(entry.problem), "attempts": entry.attempts, "outcome": entry.outcome,
                "error": entry.error, "tries": dumps(entry.tries), "duration_ms": entry.duration_ms},
                returning="id"))
        return entry.id

    def entries(self, dealer: str | None, *, after: int = 0, limit: int = 100, record_id: str | None = None,
                outcome: str | None = None, operation: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM icar_sync_log WHERE id > ?", [after]
        for column, value in (("dealer", dealer), ("record_id", record_id), ("outcome", outcome),
                              ("operation", operation)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        rows = self.store.query(sql + " ORDER BY id LIMIT ?", (*params, limit))
        return [to_json(row) for row in rows]

    def get(self, entry_id: int, dealer: str | None = None) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM icar_sync_log WHERE id = ?", (entry_id,))
        return to_json(row) if row and dealer in (None, row["dealer"]) else None

    def last_for(self, dealer: str, record_id: str) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM icar_sync_log WHERE dealer = ? AND record_id = ? "
                             "ORDER BY id DESC LIMIT 1", (dealer, record_id))
        return to_json(row) if row else None

    @staticmethod
    def attach(unit: Transaction, entry_id: int, record_id: str) -> None:
        """Name the DMS record a call was made for, once it exists (the match's read)."""
        unit.execute("UPDATE icar_sync_log SET record_id = ? WHERE id = ?", (record_id, entry_id))

    @staticmethod
    def clear(unit: Transaction) -> None:
        unit.execute("DELETE FROM icar_sync_log")


def to_json(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "at": row["at"], "dealer": row["dealer"], "record_id": row["record_id"],
            "openflex_id": row["openflex_id"], "operation": row["operation"], "outbox_id": row["outbox_id"],
            "method": row["method"],
            "url": row["url"], "path": row["path"], "body": loads(row["body"]), "status": row["status"],
            "problem": loads(row["problem"]), "attempts": row["attempts"], "outcome": row["outcome"],
            "error": row["error"], "tries": loads(row["tries"]) or [], "duration_ms": row["duration_ms"]}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
