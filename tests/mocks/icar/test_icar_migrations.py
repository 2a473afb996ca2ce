"""The ICAR schema's steps on an existing store, on both backends: a store of the previous
version is migrated at start and keeps what it held."""
from __future__ import annotations

import pytest
from icarflex.mocks.common.store import UniqueViolation, open_store
from icarflex.mocks.icar.migrations import MIGRATIONS

INVOICE = {"number": "F2026-000001", "dealer": "demo", "record_id": "R1", "customer": "Casse Dupont",
           "invoiced_sale_price": 1.0, "vat_recoverable": 0, "vat_regime": "MARGE", "vat_source": "ORIGIN",
           "origin": "PARTICULIER", "issued_at": "2026-12-01T10:00:00+00:00"}


def test_v3_keeps_a_v2_store_s_invoices_and_numbers_them_per_dealer(store_url: str) -> None:
    store = open_store(store_url)
    assert store.migrate("icar", MIGRATIONS[:2]) == 2
    with store.transaction() as tx:
        tx.insert("icar_invoices", INVOICE)
    assert store.migrate("icar", MIGRATIONS) == 3
    assert store.one("SELECT * FROM icar_invoices WHERE record_id = ?", ("R1",)) == INVOICE
    with store.transaction() as tx:  # another dealer's first invoice has the same number
        tx.insert("icar_invoices", {**INVOICE, "dealer": "other", "record_id": "R2"})
    with pytest.raises(UniqueViolation), store.transaction() as tx:  # never twice in one dealer
        tx.insert("icar_invoices", {**INVOICE, "record_id": "R3"})
    store.close()
