"""The JSON shapes of the DMS's rows (records with their FREVO lines, invoice, last sync and open
operation; the police register; the outbox)."""
from __future__ import annotations

from typing import Any

from icarflex.mocks.common.store import Row
from icarflex.mocks.icar.repositories import Operation

SYNC_SUMMARY = ("id", "operation", "outcome", "status", "at")


def record_json(record: Row, lines: list[Row], invoice: Row | None, last_sync: dict[str, Any] | None,
                pending: Operation | None) -> dict[str, Any]:
    frevo = [{"id": line["id"], "label": line["label"], "amount": line["amount"],
              "created_at": line["created_at"]} for line in lines]
    return {
        "id": record["id"], "dealer": record["dealer"], "openflex_id": record["openflex_id"],
        "status": record["status"], "vin": record["vin"], "registration": record["registration"],
        "make": record["make"], "model": record["model"], "origin": record["origin"],
        "police_number": record["police_number"], "entry_date": record["entry_date"],
        "mileage": record["mileage"],
        "vat_recoverable": None if record["vat_recoverable"] is None else bool(record["vat_recoverable"]),
        "frevo_lines": frevo, "frevo_total": round(sum(line["amount"] for line in frevo), 2),
        "invoice": invoice_json(invoice) if invoice else None,
        "sync": {k: last_sync[k] for k in SYNC_SUMMARY} if last_sync else None,
        "pending": operation_json(pending) if pending else None,
        "created_at": record["created_at"], "updated_at": record["updated_at"],
    }


def invoice_json(row: Row) -> dict[str, Any]:
    return {"number": row["number"], "customer": row["customer"],
            "invoiced_sale_price": row["invoiced_sale_price"],
            "vat_recoverable": bool(row["vat_recoverable"]),
            "vat_regime": row["vat_regime"], "vat_source": row["vat_source"], "origin": row["origin"],
            "issued_at": row["issued_at"]}


def register_json(row: Row) -> dict[str, Any]:
    return {"number": row["number"], "site": row["site"], "seq": row["seq"], "dealer": row["dealer"],
            "record_id": row["record_id"], "openflex_id": row["openflex_id"], "entry_date": row["entry_date"],
            "source": row["source"], "state": row["state"], "at": row["at"]}


def operation_json(op: Operation) -> dict[str, Any]:
    return {"id": op.id, "dealer": op.dealer, "record_id": op.record_id, "openflex_id": op.openflex_id,
            "operation": op.operation, "state": op.state, "change": op.change,
            "police_number": op.police_number, "attempts": op.attempts, "last_sync_id": op.last_sync_id,
            "created_at": op.created_at, "updated_at": op.updated_at}
