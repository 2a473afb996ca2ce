"""The OpenFlex fake's SQLite tables and the few row helpers every resource shares.

Every table is prefixed `openflex_`: `icarflex serve` keeps both fakes in one file.
A vehicle is a JSON document (its contract data fields) plus indexed columns for the
list filters; reservations and opportunities are documents keyed by dealer; events
carry an autoincrement cursor. Ids come from `counters`, never reset, so an id is
never reused (the ICAR fake may still hold an old one after a reset).
"""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from icarflex.mocks.common.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS openflex_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS openflex_settings (
    dealer TEXT PRIMARY KEY, overlay TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS openflex_vehicles (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE, dealer TEXT NOT NULL, status TEXT NOT NULL,
    vin TEXT, registration TEXT, police_number TEXT, opportunity_id TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL,
    pending_events TEXT
);
CREATE INDEX IF NOT EXISTS openflex_vehicles_dealer ON openflex_vehicles (dealer, seq);
CREATE INDEX IF NOT EXISTS openflex_vehicles_status ON openflex_vehicles (dealer, status);
CREATE INDEX IF NOT EXISTS openflex_vehicles_vin ON openflex_vehicles (dealer, vin);
CREATE INDEX IF NOT EXISTS openflex_vehicles_registration ON openflex_vehicles (dealer, registration);
CREATE INDEX IF NOT EXISTS openflex_vehicles_police_number ON openflex_vehicles (dealer, police_number);
CREATE INDEX IF NOT EXISTS openflex_vehicles_updated_at ON openflex_vehicles (dealer, updated_at);
CREATE INDEX IF NOT EXISTS openflex_vehicles_opportunity ON openflex_vehicles (dealer, opportunity_id);
CREATE TABLE IF NOT EXISTS openflex_reservations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE, dealer TEXT NOT NULL, vehicle_id TEXT NOT NULL, doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS openflex_reservations_vehicle ON openflex_reservations (dealer, vehicle_id);
CREATE TABLE IF NOT EXISTS openflex_opportunities (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE, dealer TEXT NOT NULL, doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS openflex_events (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    dealer TEXT NOT NULL, type TEXT NOT NULL, vehicle_id TEXT, actor TEXT, at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS openflex_events_dealer ON openflex_events (dealer, cursor);
"""

# A vehicle's write and its events are one statement, so one round trip to SQLite and one commit:
# the UPDATE carries the events (a JSON array) in `pending_events`, which this trigger moves to
# the feed, in the UPDATE's own transaction (a write refused by its compare-and-swap adds none).
TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS openflex_vehicle_events AFTER UPDATE OF pending_events ON openflex_vehicles
WHEN NEW.pending_events IS NOT NULL
BEGIN
    INSERT INTO openflex_events (dealer, type, vehicle_id, actor, at, data)
        SELECT NEW.dealer, value ->> 'type', NEW.id, value ->> 'actor', value ->> 'at', value ->> 'data'
        FROM json_each(NEW.pending_events) ORDER BY key;
    UPDATE openflex_vehicles SET pending_events = NULL WHERE seq = NEW.seq;
END;
"""
ADDED_COLUMNS = {"openflex_vehicles": {"pending_events": "TEXT"}}  # absent from stores made before them


def upgrade(store: Store) -> None:
    """Bring a store file made by an earlier icarflex to this schema (columns, then triggers)."""
    for table, columns in ADDED_COLUMNS.items():
        present = {row["name"] for row in store.query(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name not in present:
                store.script(f"ALTER TABLE {table} ADD COLUMN {name} {kind};")
    store.script(TRIGGERS)


# Tables emptied by a reset (counters and the events' autoincrement survive it).
STATE_TABLES = tuple(f"openflex_{name}"
                     for name in ("settings", "vehicles", "reservations", "opportunities", "events"))
ID_PREFIXES = {"vehicle": "VEH", "reservation": "RES", "opportunity": "OPP"}


def now() -> str:
    """UTC, microseconds, fixed width: timestamps compare as strings."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def as_utc(moment: datetime) -> str:
    """A query's datetime in the stored form (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def next_number(conn: sqlite3.Connection, name: str) -> int:
    conn.execute("INSERT INTO openflex_counters (name, value) VALUES (?, 1) "
                 "ON CONFLICT(name) DO UPDATE SET value = value + 1", (name,))
    return conn.execute("SELECT value FROM openflex_counters WHERE name = ?", (name,)).fetchone()[0]


def next_id(conn: sqlite3.Connection, kind: str) -> str:
    return f"{ID_PREFIXES[kind]}-{next_number(conn, kind):06d}"


def placeholders(items: list[Any]) -> str:
    return ",".join("?" for _ in items)
