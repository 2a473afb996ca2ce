"""The change feed `GET /events?after=CURSOR`: what a DMS connector polls.

Every vehicle creation, write (with the changed fields), status move, reservation
added or removed, opportunity and order is one event, written in the same
transaction as the change itself, so the feed never shows a refused write.
"""
from __future__ import annotations

import sqlite3
from typing import Any

from icarflex.mocks.common.store import dumps, loads
from icarflex.mocks.openflex.base import BackendBase
from icarflex.mocks.openflex.tables import now

VEHICLE_CREATED = "vehicle.created"
VEHICLE_UPDATED = "vehicle.updated"            # data: changes {field: new}, before {field: old}
STATUS_CHANGED = "vehicle.status_changed"      # data: from, to (also in the vehicle.updated event)
RESERVATION_ADDED = "reservation.added"        # data: the reservation
RESERVATION_REMOVED = "reservation.removed"    # data: the reservation
OPPORTUNITY_CREATED = "opportunity.created"    # data: opportunity_id, customer
OPPORTUNITY_ORDERED = "opportunity.ordered"    # data: opportunity_id, price, reservation_id
EVENT_TYPES = (VEHICLE_CREATED, VEHICLE_UPDATED, STATUS_CHANGED, RESERVATION_ADDED,
               RESERVATION_REMOVED, OPPORTUNITY_CREATED, OPPORTUNITY_ORDERED)


def record(conn: sqlite3.Connection, dealer: str, type_: str, actor: str | None,
           vehicle_id: str | None = None, data: dict[str, Any] | None = None) -> int:
    cursor = conn.execute("INSERT INTO openflex_events (dealer, type, vehicle_id, actor, at, data) "
                          "VALUES (?,?,?,?,?,?)",
                          (dealer, type_, vehicle_id, actor, now(), dumps(data or {})))
    return int(cursor.lastrowid or 0)


def pending(items: list[tuple[str | None, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Events (actor, type, data) of one vehicle write, stamped now, as entries of the
    `pending_events` its UPDATE carries (`dumps` of a list of them: tables.TRIGGERS moves them to
    the feed in the same statement); `data` kept as the text `record` stores."""
    at = now()
    return [{"type": type_, "actor": actor, "at": at, "data": dumps(data)} for actor, type_, data in items]


class EventsMixin(BackendBase):
    def list_events(self, dealer: str, after: int = 0, limit: int = 100) -> dict[str, Any]:
        rows = self.store.query("SELECT * FROM openflex_events WHERE dealer = ? AND cursor > ? "
                                "ORDER BY cursor LIMIT ?", (dealer, after, limit))
        items = [{"cursor": row["cursor"], "type": row["type"], "vehicle_id": row["vehicle_id"],
                  "actor": row["actor"], "at": row["at"], "data": loads(row["data"])} for row in rows]
        return {"items": items, "next_cursor": items[-1]["cursor"] if items else after}
