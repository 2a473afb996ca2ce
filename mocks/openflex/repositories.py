"""The OpenFlex fake's repositories: one per aggregate, over one unit of work of the store.

`Repositories(tx, contract)` gives `vehicles` (with their reservations), `events`,
`opportunities` and `settings` inside one transaction (`icarflex.mocks.common.store`): what
the service writes through them commits together or not at all. SQL lives here only, in
the store's portable form, the same on SQLite and PostgreSQL.

Every table is prefixed `openflex_` (`icarflex serve` keeps both fakes in one store). Ids
and event cursors come from the store's counters, never reset: an id is never reused, and
cursors are taken last in a transaction (the counter row stays locked until the commit), so
the feed grows in commit order on either backend. A vehicle's `version` only grows, in the
transaction of its change: an ETag is never issued twice.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from icarflex.contracts import Contract
from icarflex.mocks.common.store import Migration, Row, Transaction, dumps, loads
from icarflex.mocks.openflex.vehicles import FILTER_COLUMNS, doc_of, vehicle_json

MIGRATIONS = [Migration(1, """
CREATE TABLE openflex_settings (dealer TEXT PRIMARY KEY, overlay TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE openflex_vehicles (
    seq {id}, id TEXT NOT NULL UNIQUE, dealer TEXT NOT NULL, status TEXT NOT NULL,
    vin TEXT, registration TEXT, police_number TEXT, opportunity_id TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL
);
CREATE INDEX openflex_vehicles_dealer ON openflex_vehicles (dealer, seq);
CREATE INDEX openflex_vehicles_status ON openflex_vehicles (dealer, status);
CREATE INDEX openflex_vehicles_vin ON openflex_vehicles (dealer, vin);
CREATE INDEX openflex_vehicles_registration ON openflex_vehicles (dealer, registration);
CREATE INDEX openflex_vehicles_police_number ON openflex_vehicles (dealer, police_number);
CREATE INDEX openflex_vehicles_updated_at ON openflex_vehicles (dealer, updated_at);
CREATE INDEX openflex_vehicles_opportunity ON openflex_vehicles (dealer, opportunity_id);
CREATE TABLE openflex_reservations (
    seq {id}, id TEXT NOT NULL UNIQUE, dealer TEXT NOT NULL, vehicle_id TEXT NOT NULL, doc TEXT NOT NULL
);
CREATE INDEX openflex_reservations_vehicle ON openflex_reservations (vehicle_id, seq);
CREATE TABLE openflex_opportunities (
    seq {id}, id TEXT NOT NULL UNIQUE, dealer TEXT NOT NULL, doc TEXT NOT NULL
);
CREATE TABLE openflex_events (
    cursor {bigint} PRIMARY KEY, dealer TEXT NOT NULL, type TEXT NOT NULL, vehicle_id TEXT, actor TEXT,
    at TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX openflex_events_dealer ON openflex_events (dealer, cursor);
""")]
COMPONENT = "openflex"
# Tables emptied by a reset (the counters survive it: ids and cursors are never reused).
STATE_TABLES = tuple(f"openflex_{name}"
                     for name in ("settings", "vehicles", "reservations", "opportunities", "events"))
ID_PREFIXES = {"vehicle": "VEH", "reservation": "RES", "opportunity": "OPP"}
EVENT_COUNTER = "openflex:events"


def next_id(tx: Transaction, kind: str) -> str:
    return f"{ID_PREFIXES[kind]}-{tx.next_number(f'openflex:{kind}'):06d}"


class Vehicles:
    def __init__(self, tx: Transaction, contract: Contract) -> None:
        self.tx, self.contract = tx, contract

    def get(self, vehicle_id: str, *, lock: bool = False) -> dict[str, Any] | None:
        """The vehicle's JSON (any dealer's: the caller checks); `lock`: until the commit."""
        if not lock:
            found = self.snapshot(vehicle_id)
            return None if found is None else found[0]
        row = self.tx.one("SELECT * FROM openflex_vehicles WHERE id = ?", (vehicle_id,), lock=True)
        return None if row is None else self._assemble([row])[0]

    def snapshot(self, vehicle_id: str, lock: bool = False) -> tuple[dict[str, Any], str | None] | None:
        """The vehicle's JSON and its dealer's stored settings overlay, read by one statement
        (one snapshot, on either backend, inside a transaction or not). `lock=True`: its row
        locked first (`FOR UPDATE`) until the commit, so concurrent writers of the vehicle queue
        for it instead of each judging a version another one is replacing."""
        if lock:
            self.tx.one("SELECT id FROM openflex_vehicles WHERE id = ?", (vehicle_id,), lock=True)
        rows = self.tx.query(
            "SELECT v.*, r.doc AS reservation, s.overlay AS overlay FROM openflex_vehicles v "
            "LEFT JOIN openflex_reservations r ON r.vehicle_id = v.id "
            "LEFT JOIN openflex_settings s ON s.dealer = v.dealer WHERE v.id = ? ORDER BY r.seq",
            (vehicle_id,))
        if not rows:
            return None
        reservations = [loads(row["reservation"]) for row in rows if row["reservation"] is not None]
        return vehicle_json(self.contract, rows[0], loads(rows[0]["doc"]), reservations), rows[0]["overlay"]

    def version(self, vehicle_id: str) -> int | None:
        return self.tx.scalar("SELECT version FROM openflex_vehicles WHERE id = ?", (vehicle_id,))

    def page(self, dealer: str, filters: Mapping[str, Any], updated_since: str | None,
             after_seq: int | None, limit: int) -> tuple[list[dict[str, Any]], int | None]:
        """Up to `limit` vehicles of the dealer, oldest first, and the seq to continue after."""
        sql, params = "SELECT * FROM openflex_vehicles WHERE dealer = ?", [dealer]
        for column in FILTER_COLUMNS:
            if filters.get(column) is not None:
                sql += f" AND {column} = ?"
                params.append(filters[column])
        if updated_since is not None:
            sql += " AND updated_at >= ?"
            params.append(updated_since)
        if after_seq is not None:
            sql += " AND seq > ?"
            params.append(after_seq)
        rows = self.tx.query(sql + " ORDER BY seq LIMIT ?", (*params, limit + 1))
        page = rows[:limit]
        return self._assemble(page), (page[-1]["seq"] if len(rows) > limit else None)

    def trade_ins(self, dealer: str, opportunity_id: str) -> list[str]:
        rows = self.tx.query("SELECT id FROM openflex_vehicles WHERE dealer = ? AND opportunity_id = ? "
                             "ORDER BY seq", (dealer, opportunity_id))
        return [row["id"] for row in rows]

    def add(self, dealer: str, vehicle: Mapping[str, Any], stamp: str,
            opportunity_id: str | None = None) -> str:
        """Store a new vehicle at version 1; its new id."""
        vehicle_id = next_id(self.tx, "vehicle")
        self.tx.insert("openflex_vehicles", {
            "id": vehicle_id, "dealer": dealer, "status": vehicle["status"], "vin": vehicle.get("vin"),
            "registration": vehicle.get("registration"), "police_number": vehicle.get("police_number"),
            "opportunity_id": opportunity_id, "created_at": stamp, "updated_at": stamp, "version": 1,
            "doc": dumps(doc_of(self.contract, vehicle))})
        return vehicle_id

    def save(self, after: Mapping[str, Any], expected_version: int, version: int) -> bool:
        """Write `after` as `version` if the stored version is still `expected_version` (a
        compare-and-swap); False when another write came first."""
        columns = ", ".join(f"{c} = ?" for c in FILTER_COLUMNS)
        return self.tx.execute(
            f"UPDATE openflex_vehicles SET {columns}, updated_at = ?, version = ?, doc = ? "
            "WHERE id = ? AND version = ?",
            (*(after.get(c) for c in FILTER_COLUMNS), after["updated_at"], version,
             dumps(doc_of(self.contract, after)), after["id"], expected_version)) == 1

    def touch(self, vehicle_id: str, stamp: str) -> None:
        """A change of the representation outside its fields (its reservations): a new version."""
        self.tx.execute("UPDATE openflex_vehicles SET updated_at = ?, version = version + 1 WHERE id = ?",
                        (stamp, vehicle_id))

    def count(self) -> int:
        return int(self.tx.scalar("SELECT COUNT(*) FROM openflex_vehicles"))

    def _assemble(self, rows: list[Row]) -> list[dict[str, Any]]:
        ids = [row["id"] for row in rows]
        reservations: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for r in self.tx.query("SELECT vehicle_id, doc FROM openflex_reservations WHERE vehicle_id IN "
                                   f"({','.join('?' * len(ids))}) ORDER BY seq", ids):
                reservations[r["vehicle_id"]].append(loads(r["doc"]))
        return [vehicle_json(self.contract, row, loads(row["doc"]), reservations[row["id"]]) for row in rows]


class Reservations:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, dealer: str, reservation: dict[str, Any]) -> dict[str, Any]:
        reservation["id"] = next_id(self.tx, "reservation")
        self.tx.insert("openflex_reservations", {"id": reservation["id"], "dealer": dealer,
                                                 "vehicle_id": reservation["vehicle_id"],
                                                 "doc": dumps(reservation)})
        return reservation

    def remove(self, reservation_id: str) -> None:
        self.tx.execute("DELETE FROM openflex_reservations WHERE id = ?", (reservation_id,))


class Opportunities:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def get(self, dealer: str, opportunity_id: str, *, lock: bool = False) -> dict[str, Any] | None:
        row = self.tx.one("SELECT doc FROM openflex_opportunities WHERE id = ? AND dealer = ?",
                          (opportunity_id, dealer), lock=lock)
        return None if row is None else loads(row["doc"])

    def add(self, dealer: str, opportunity: dict[str, Any]) -> dict[str, Any]:
        opportunity["id"] = next_id(self.tx, "opportunity")
        self.tx.insert("openflex_opportunities", {"id": opportunity["id"], "dealer": dealer,
                                                  "doc": dumps(opportunity)})
        return opportunity

    def save(self, opportunity: dict[str, Any]) -> None:
        self.tx.execute("UPDATE openflex_opportunities SET doc = ? WHERE id = ?",
                        (dumps(opportunity), opportunity["id"]))


class Events:
    """The change feed. Events are kept by `record` and written by `flush`, which the unit of
    work calls last, just before its commit: their cursors (`Transaction.append`: in commit
    order) are taken once, after every other lock of the transaction (no lock-order cycle),
    and held only until the commit."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self._pending: list[tuple[str, str | None, str | None, str, str, dict[str, Any]]] = []

    def record(self, dealer: str, type_: str, actor: str | None, vehicle_id: str | None,
               data: dict[str, Any], stamp: str) -> None:
        self._pending.append((dealer, type_, vehicle_id, actor, stamp, data))

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        self.tx.append("openflex_events", "cursor", [
            {"dealer": dealer, "type": type_, "vehicle_id": vehicle_id, "actor": actor, "at": stamp,
             "data": dumps(data)} for dealer, type_, vehicle_id, actor, stamp, data in pending],
            counter=EVENT_COUNTER)

    def page(self, dealer: str, after: int, limit: int) -> list[dict[str, Any]]:
        rows = self.tx.query("SELECT * FROM openflex_events WHERE dealer = ? AND cursor > ? "
                             "ORDER BY cursor LIMIT ?", (dealer, after, limit))
        return [{"cursor": row["cursor"], "type": row["type"], "vehicle_id": row["vehicle_id"],
                 "actor": row["actor"], "at": row["at"], "data": loads(row["data"])} for row in rows]

    def count(self) -> int:
        return int(self.tx.scalar("SELECT COUNT(*) FROM openflex_events"))


class Settings:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def overlay(self, dealer: str, *, lock: bool = False) -> str | None:
        """The dealer's stored overlay (its text; None: none)."""
        row = self.tx.one("SELECT overlay FROM openflex_settings WHERE dealer = ?", (dealer,), lock=lock)
        return None if row is None else row["overlay"]

    def put(self, dealer: str, overlay: Mapping[str, Any], stamp: str) -> None:
        self.tx.execute("INSERT INTO openflex_settings (dealer, overlay, updated_at) VALUES (?,?,?) "
                        "ON CONFLICT (dealer) DO UPDATE SET overlay = excluded.overlay, "
                        "updated_at = excluded.updated_at", (dealer, dumps(overlay), stamp))


class Repositories:
    """Every repository of the fake over one unit of work."""

    def __init__(self, tx: Transaction, contract: Contract) -> None:
        self.tx = tx
        self.vehicles = Vehicles(tx, contract)
        self.reservations = Reservations(tx)
        self.opportunities = Opportunities(tx)
        self.events = Events(tx)
        self.settings = Settings(tx)

    def flush(self) -> None:
        """What is kept until the end of the unit of work (its events), written now."""
        self.events.flush()

    def clear(self) -> None:
        for table in STATE_TABLES:
            self.tx.execute(f"DELETE FROM {table}")

    def counts(self) -> dict[str, int]:
        return {table: int(self.tx.scalar(f"SELECT COUNT(*) FROM openflex_{table}"))
                for table in ("vehicles", "reservations", "opportunities", "events")}
