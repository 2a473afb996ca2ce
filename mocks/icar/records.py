"""The DMS's tables: vehicle records, the livre de police, FREVO lines, invoices, counters.

SQL only, no HTTP and no Flask; `state.IcarBackend` composes these into operations.
Counters (police numbers per site, invoice numbers per dealer) are incremented inside
the caller's write transaction, so numbers stay sequential and unique under
concurrency (SQLite `BEGIN IMMEDIATE` serialises writers).
"""
from __future__ import annotations

import sqlite3
import time
from typing import Any

from icarflex.mocks.common.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS icar_records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, dealer TEXT NOT NULL,
    openflex_id TEXT NOT NULL, status TEXT NOT NULL, vin TEXT, registration TEXT, make TEXT, model TEXT,
    origin TEXT, police_number TEXT, entry_date TEXT, mileage INTEGER, vat_recoverable INTEGER,
    busy TEXT, busy_at REAL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (dealer, openflex_id)
);
CREATE TABLE IF NOT EXISTS icar_frevo_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL, label TEXT NOT NULL,
    amount REAL NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS icar_invoices (
    number TEXT PRIMARY KEY, dealer TEXT NOT NULL, record_id TEXT NOT NULL UNIQUE, customer TEXT NOT NULL,
    invoiced_sale_price REAL NOT NULL, vat_recoverable INTEGER NOT NULL, vat_regime TEXT NOT NULL,
    vat_source TEXT NOT NULL, origin TEXT, issued_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS icar_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS icar_police_register (
    id INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT NOT NULL, number TEXT NOT NULL, seq INTEGER,
    dealer TEXT NOT NULL, record_id TEXT NOT NULL, openflex_id TEXT NOT NULL, entry_date TEXT NOT NULL,
    source TEXT NOT NULL, state TEXT NOT NULL, at TEXT NOT NULL, UNIQUE (site, number)
);
"""
TABLES = ("icar_records", "icar_frevo_lines", "icar_invoices", "icar_counters", "icar_police_register")
# A reset empties the DMS but keeps its counters: a police number (livre de police) or an
# invoice number is never issued twice, even against an OpenFlex that was not reset.
RESET_TABLES = tuple(t for t in TABLES if t != "icar_counters")

# A claim older than this is taken to belong to a crashed request and may be taken over.
STALE_CLAIM_SECONDS = 300.0


def insert(conn: sqlite3.Connection, table: str, values: dict[str, Any]) -> int:
    """INSERT one row of `values` (column → value) into `table`; its rowid."""
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cursor = conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values()))
    return int(cursor.lastrowid or 0)


def update(conn: sqlite3.Connection, table: str, key: tuple[str, Any], values: dict[str, Any]) -> None:
    """UPDATE the row whose `key` column has the key's value with `values`."""
    assignments = ", ".join(f"{column} = ?" for column in values)
    conn.execute(f"UPDATE {table} SET {assignments} WHERE {key[0]} = ?", (*values.values(), key[1]))


def next_counter(conn: sqlite3.Connection, name: str) -> int:
    """The next value of a named counter, inside the caller's write transaction."""
    conn.execute("INSERT INTO icar_counters (name, value) VALUES (?, 1) "
                 "ON CONFLICT (name) DO UPDATE SET value = value + 1", (name,))
    return int(conn.execute("SELECT value FROM icar_counters WHERE name = ?", (name,)).fetchone()[0])


class Records:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, dealer: str, record_id: str) -> sqlite3.Row | None:
        return self.store.one("SELECT * FROM icar_records WHERE dealer = ? AND id = ?", (dealer, record_id))

    def by_openflex_id(self, dealer: str, openflex_id: str) -> sqlite3.Row | None:
        return self.store.one("SELECT * FROM icar_records WHERE dealer = ? AND openflex_id = ?",
                              (dealer, openflex_id))

    def page(self, dealer: str, after: int, limit: int, filters: dict[str, Any]) -> list[sqlite3.Row]:
        sql, params = "SELECT * FROM icar_records WHERE dealer = ? AND seq > ?", [dealer, after]
        for column, value in filters.items():
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        return self.store.query(sql + " ORDER BY seq LIMIT ?", (*params, limit))

    def count(self) -> int:
        return int(self.store.one("SELECT COUNT(*) FROM icar_records")[0])

    def frevo_lines(self, record_id: str) -> list[sqlite3.Row]:
        return self.store.query("SELECT * FROM icar_frevo_lines WHERE record_id = ? ORDER BY id",
                                (record_id,))

    def invoice(self, record_id: str) -> sqlite3.Row | None:
        return self.store.one("SELECT * FROM icar_invoices WHERE record_id = ?", (record_id,))

    def register(self, dealer: str, after: int, limit: int) -> list[sqlite3.Row]:
        return self.store.query("SELECT * FROM icar_police_register WHERE dealer = ? AND id > ? "
                                "ORDER BY id LIMIT ?", (dealer, after, limit))

    @staticmethod
    def claim(conn: sqlite3.Connection, record_id: str, operation: str) -> bool:
        """Mark the record busy with `operation`; False when another operation holds it."""
        cursor = conn.execute(
            "UPDATE icar_records SET busy = ?, busy_at = ? WHERE id = ? AND (busy IS NULL OR busy_at < ?)",
            (operation, time.time(), record_id, time.time() - STALE_CLAIM_SECONDS))
        return cursor.rowcount == 1

    def release(self, record_id: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE icar_records SET busy = NULL, busy_at = NULL WHERE id = ?", (record_id,))

    def clear(self) -> None:
        with self.store.transaction() as conn:
            for table in RESET_TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
