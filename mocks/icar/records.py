"""The DMS's tables: vehicle records, the livre de police, FREVO lines, invoices, counters.

SQL only (the store's portable SQL, on SQLite and PostgreSQL), no HTTP and no Flask;
`state.IcarBackend` composes these into operations. Counters (police numbers per site,
invoice numbers per dealer) are the store's, taken inside the caller's write transaction
and locked until its commit, so numbers stay sequential and unique under concurrency.
"""
from __future__ import annotations

import time
from typing import Any

from icarflex.mocks.common.store import Row, Store, Transaction

SCHEMA = """
CREATE TABLE icar_records (
    seq {id}, id TEXT NOT NULL UNIQUE, dealer TEXT NOT NULL,
    openflex_id TEXT NOT NULL, status TEXT NOT NULL, vin TEXT, registration TEXT, make TEXT, model TEXT,
    origin TEXT, police_number TEXT, entry_date TEXT, mileage INTEGER, vat_recoverable INTEGER,
    busy TEXT, busy_at {real}, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (dealer, openflex_id)
);
CREATE TABLE icar_frevo_lines (
    id {id}, record_id TEXT NOT NULL, label TEXT NOT NULL,
    amount {real} NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE icar_invoices (
    number TEXT PRIMARY KEY, dealer TEXT NOT NULL, record_id TEXT NOT NULL UNIQUE, customer TEXT NOT NULL,
    invoiced_sale_price {real} NOT NULL, vat_recoverable INTEGER NOT NULL, vat_regime TEXT NOT NULL,
    vat_source TEXT NOT NULL, origin TEXT, issued_at TEXT NOT NULL
);
CREATE TABLE icar_police_register (
    id {id}, site TEXT NOT NULL, number TEXT NOT NULL, seq INTEGER,
    dealer TEXT NOT NULL, record_id TEXT NOT NULL, openflex_id TEXT NOT NULL, entry_date TEXT NOT NULL,
    source TEXT NOT NULL, state TEXT NOT NULL, at TEXT NOT NULL, UNIQUE (site, number)
);
"""
TABLES = ("icar_records", "icar_frevo_lines", "icar_invoices", "icar_police_register")
# A reset empties the DMS but keeps its counters (the store's, never reset): a police number
# (livre de police) or an invoice number is never issued twice, even against an OpenFlex
# that was not reset.
RESET_TABLES = TABLES

# A claim older than this is taken to belong to a crashed request and may be taken over.
STALE_CLAIM_SECONDS = 300.0


def insert(tx: Transaction, table: str, values: dict[str, Any], returning: str | None = None) -> Any:
    """INSERT one row of `values` (column → value) into `table`; the `returning` column's value."""
    return tx.insert(table, values, returning=returning)


def update(tx: Transaction, table: str, key: tuple[str, Any], values: dict[str, Any]) -> None:
    """UPDATE the row whose `key` column has the key's value with `values`."""
    assignments = ", ".join(f"{column} = ?" for column in values)
    tx.execute(f"UPDATE {table} SET {assignments} WHERE {key[0]} = ?", (*values.values(), key[1]))


def next_counter(tx: Transaction, name: str) -> int:
    """The next value of a named counter, inside the caller's write transaction."""
    return tx.next_number(f"icar:{name}")


class Records:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, dealer: str, record_id: str) -> Row | None:
        return self.store.one("SELECT * FROM icar_records WHERE dealer = ? AND id = ?", (dealer, record_id))

    def by_openflex_id(self, dealer: str, openflex_id: str) -> Row | None:
        return self.store.one("SELECT * FROM icar_records WHERE dealer = ? AND openflex_id = ?",
                              (dealer, openflex_id))

    def page(self, dealer: str, after: int, limit: int, filters: dict[str, Any]) -> list[Row]:
        sql, params = "SELECT * FROM icar_records WHERE dealer = ? AND seq > ?", [dealer, after]
        for column, value in filters.items():
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        return self.store.query(sql + " ORDER BY seq LIMIT ?", (*params, limit))

    def count(self) -> int:
        return int(self.store.scalar("SELECT COUNT(*) FROM icar_records"))

    def frevo_lines(self, record_id: str) -> list[Row]:
        return self.store.query("SELECT * FROM icar_frevo_lines WHERE record_id = ? ORDER BY id",
                                (record_id,))

    def invoice(self, record_id: str) -> Row | None:
        return self.store.one("SELECT * FROM icar_invoices WHERE record_id = ?", (record_id,))

    def register(self, dealer: str, after: int, limit: int) -> list[Row]:
        return self.store.query("SELECT * FROM icar_police_register WHERE dealer = ? AND id > ? "
                                "ORDER BY id LIMIT ?", (dealer, after, limit))

    @staticmethod
    def claim(tx: Transaction, record_id: str, operation: str) -> bool:
        """Mark the record busy with `operation`; False when another operation holds it."""
        return tx.execute(
            "UPDATE icar_records SET busy = ?, busy_at = ? WHERE id = ? AND (busy IS NULL OR busy_at < ?)",
            (operation, time.time(), record_id, time.time() - STALE_CLAIM_SECONDS)) == 1

    def release(self, record_id: str) -> None:
        with self.store.transaction() as tx:
            tx.execute("UPDATE icar_records SET busy = NULL, busy_at = NULL WHERE id = ?", (record_id,))

    def clear(self) -> None:
        with self.store.transaction() as tx:
            for table in RESET_TABLES:
                tx.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
