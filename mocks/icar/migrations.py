"""The ICAR fake's schema, version by version (the store migrates a database to the last one at
start, `icarflex.mocks.common.store.Store.migrate`). A step once on main is never edited: a new
step follows it.

1. Records, FREVO lines, invoices, the livre de police, the sync log.
2. The outbox (operations recorded before their push to OpenFlex, one open per record), the
   operation of each sync log entry, a unique (site, line) in the register; the records'
   claim columns go (no record is locked any more).
3. Invoices are numbered per dealer (each its own sequence, as a company numbers its own):
   their key is (dealer, number), no longer the number alone, which two dealers both had.
"""
from __future__ import annotations

from icarflex.mocks.common.store import Migration

V1 = """
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
CREATE TABLE icar_sync_log (
    id {id},
    at TEXT NOT NULL, dealer TEXT NOT NULL, record_id TEXT, openflex_id TEXT, operation TEXT NOT NULL,
    method TEXT NOT NULL, url TEXT NOT NULL, path TEXT NOT NULL, body TEXT, status INTEGER,
    problem TEXT, attempts INTEGER NOT NULL, outcome TEXT NOT NULL, error TEXT, tries TEXT,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX icar_sync_log_record ON icar_sync_log (dealer, record_id);
"""

V2 = """
CREATE TABLE icar_outbox (
    id {id}, dealer TEXT NOT NULL, record_id TEXT NOT NULL, openflex_id TEXT NOT NULL,
    operation TEXT NOT NULL, change TEXT NOT NULL, landed TEXT NOT NULL, data TEXT NOT NULL, etag TEXT,
    register_id {bigint}, police_number TEXT, state TEXT NOT NULL, attempts INTEGER NOT NULL,
    last_sync_id {bigint}, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX icar_outbox_open ON icar_outbox (record_id) WHERE state IN ('PENDING', 'FAILED');
CREATE INDEX icar_outbox_state ON icar_outbox (state, id);
ALTER TABLE icar_sync_log ADD COLUMN outbox_id {bigint};
CREATE UNIQUE INDEX icar_police_register_line ON icar_police_register (site, seq);
ALTER TABLE icar_records DROP COLUMN busy;
ALTER TABLE icar_records DROP COLUMN busy_at;
"""

V3 = """
CREATE TABLE icar_invoices_by_dealer (
    number TEXT NOT NULL, dealer TEXT NOT NULL, record_id TEXT NOT NULL UNIQUE, customer TEXT NOT NULL,
    invoiced_sale_price {real} NOT NULL, vat_recoverable INTEGER NOT NULL, vat_regime TEXT NOT NULL,
    vat_source TEXT NOT NULL, origin TEXT, issued_at TEXT NOT NULL, PRIMARY KEY (dealer, number)
);
INSERT INTO icar_invoices_by_dealer (number, dealer, record_id, customer, invoiced_sale_price,
                                     vat_recoverable, vat_regime, vat_source, origin, issued_at)
    SELECT number, dealer, record_id, customer, invoiced_sale_price, vat_recoverable, vat_regime, vat_source,
           origin, issued_at FROM icar_invoices;
DROP TABLE icar_invoices;
ALTER TABLE icar_invoices_by_dealer RENAME TO icar_invoices;
"""

MIGRATIONS = [Migration(1, V1), Migration(2, V2), Migration(3, V3)]
