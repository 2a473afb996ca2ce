"""The DMS's repositories: vehicle records, the livre de police, FREVO lines, invoices, the outbox.

SQL only (the store's portable SQL, on SQLite and PostgreSQL alike; tables in `migrations`),
no HTTP and no Flask; the
service (`icarflex.mocks.icar.service`) composes them into operations, one unit of work
(`store.transaction()`) at a time, and never sees a driver object.

What the database guarantees, not our code:
- one open operation per record: a unique index over the outbox's open rows;
- police numbers: a counter per site taken in the transaction that writes the register line
  (`next_number`, under a row lock until commit), and a unique index on (site, seq) and on
  (site, number): sequential, no gap, no duplicate, also across processes;
- an operation settled once: a compare-and-swap on its state (`settle`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from icarflex.mocks.common.jsonio import dumps, loads
from icarflex.mocks.common.store import Row, Store, Transaction

# A reset empties the DMS but keeps its counters: a police number (livre de police) or an
# invoice number is never issued twice, even against an OpenFlex that was not reset.
RESET_TABLES = ("icar_records", "icar_frevo_lines", "icar_invoices", "icar_police_register", "icar_outbox")

# The outbox: PENDING (recorded, its push not settled: in flight, or cut by a crash), FAILED
# (OpenFlex unreachable at the last try: to retry), both *open*; DONE and REFUSED are settled.
PENDING, FAILED, DONE, REFUSED = "PENDING", "FAILED", "DONE", "REFUSED"
OPEN = (PENDING, FAILED)


def _set(unit: Transaction, table: str, key: tuple[str, Any], values: Mapping[str, Any]) -> int:
    assignments = ", ".join(f"{column} = ?" for column in values)
    return unit.execute(f"UPDATE {table} SET {assignments} WHERE {key[0]} = ?", (*values.values(), key[1]))


class Records:
    """The DMS's VO stock: one record per OpenFlex vehicle taken in, its FREVO lines, its invoice."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, dealer: str, record_id: str) -> Row | None:
        return self.store.one("SELECT * FROM icar_records WHERE dealer = ? AND id = ?", (dealer, record_id))

    @staticmethod
    def locked(unit: Transaction, dealer: str, record_id: str) -> Row | None:
        """The record, held against other writers until the unit commits."""
        return unit.one("SELECT * FROM icar_records WHERE dealer = ? AND id = ?", (dealer, record_id),
                        lock=True)

    def by_openflex_id(self, dealer: str, openflex_id: str) -> Row | None:
        return self.store.one("SELECT * FROM icar_records WHERE dealer = ? AND openflex_id = ?",
                              (dealer, openflex_id))

    def page(self, dealer: str, after: int, limit: int, filters: Mapping[str, Any]) -> list[Row]:
        sql, params = "SELECT * FROM icar_records WHERE dealer = ? AND seq > ?", [dealer, after]
        for column, value in filters.items():
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        return self.store.query(sql + " ORDER BY seq LIMIT ?", (*params, limit))

    def count(self) -> int:
        return int(self.store.scalar("SELECT COUNT(*) FROM icar_records") or 0)

    def frevo_lines(self, record_id: str) -> list[Row]:
        return self.store.query("SELECT * FROM icar_frevo_lines WHERE record_id = ? ORDER BY id",
                                (record_id,))

    @staticmethod
    def frevo_total(unit: Transaction, record_id: str) -> float:
        return float(unit.scalar("SELECT COALESCE(SUM(amount), 0) FROM icar_frevo_lines WHERE record_id = ?",
                                 (record_id,)) or 0)

    def invoice(self, record_id: str) -> Row | None:
        return self.store.one("SELECT * FROM icar_invoices WHERE record_id = ?", (record_id,))

    @staticmethod
    def add(unit: Transaction, values: Mapping[str, Any]) -> None:
        unit.insert("icar_records", dict(values))

    @staticmethod
    def update(unit: Transaction, record_id: str, values: Mapping[str, Any]) -> None:
        _set(unit, "icar_records", ("id", record_id), values)

    @staticmethod
    def add_frevo_line(unit: Transaction, values: Mapping[str, Any]) -> None:
        unit.insert("icar_frevo_lines", dict(values))

    @staticmethod
    def add_invoice(unit: Transaction, dealer: str, year: int, values: Mapping[str, Any]) -> str:
        """The invoice, numbered now (invoices are numbered once issued: no gap in the sequence)."""
        number = f"F{year:04d}-{unit.next_number(f'icar:invoice:{dealer}'):06d}"
        unit.insert("icar_invoices", {"number": number, "dealer": dealer, **values})
        return number


class PoliceRegister:
    """The livre de police of each dealer site: a line per police number, never erased."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def next_line(unit: Transaction, site: str) -> int:
        """The site's next line number (a counter taken in the caller's unit: no gap, no duplicate)."""
        return unit.next_number(f"icar:police:{site}")

    @staticmethod
    def write(unit: Transaction, values: Mapping[str, Any]) -> int:
        """A new line of the register; its id (`UniqueViolation` when the number is taken)."""
        return int(unit.insert("icar_police_register", dict(values), returning="id"))

    @staticmethod
    def set_state(unit: Transaction, line_id: int | None, state: str) -> None:
        if line_id is not None:
            _set(unit, "icar_police_register", ("id", line_id), {"state": state})

    def page(self, dealer: str, after: int, limit: int) -> list[Row]:
        return self.store.query("SELECT * FROM icar_police_register WHERE dealer = ? AND id > ? "
                                "ORDER BY id LIMIT ?", (dealer, after, limit))


@dataclass(frozen=True)
class Operation:
    """An ICAR operation that pushes to OpenFlex, as the outbox holds it.

    `change` is what is pushed; `landed` what shows on the OpenFlex vehicle once it landed
    (for the physical entry: its police number, even after OpenFlex moved the vehicle on);
    `data` what the DMS applies to its own record once OpenFlex accepted."""

    id: int
    dealer: str
    record_id: str
    openflex_id: str
    operation: str
    change: dict[str, Any]
    landed: dict[str, Any]
    data: dict[str, Any]
    etag: str | None
    register_id: int | None
    police_number: str | None
    state: str
    attempts: int
    last_sync_id: int | None
    created_at: str
    updated_at: str

    @property
    def open(self) -> bool:
        return self.state in OPEN

    @classmethod
    def from_row(cls, row: Row) -> Operation:
        return cls(**{**row, "change": loads(row["change"]), "landed": loads(row["landed"]),
                      "data": loads(row["data"])})


class Outbox:
    """The operations ICAR recorded before pushing them to OpenFlex, and how each ended."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def add(unit: Transaction, values: Mapping[str, Any]) -> int:
        """Record an operation, PENDING (`UniqueViolation`: the record has one open already)."""
        row = {**values, "change": dumps(values["change"]), "landed": dumps(values["landed"]),
               "data": dumps(values["data"]), "state": PENDING, "attempts": 0}
        return int(unit.insert("icar_outbox", row, returning="id"))

    @staticmethod
    def settle(unit: Transaction, op_id: int, state: str, sync_id: int | None, at: str) -> bool:
        """Move an open operation to `state`; False when it was not open any more (someone else
        settled it first: whoever wins this compare-and-swap applies it, once)."""
        marks = ", ".join("?" for _ in OPEN)
        return unit.execute(
            f"UPDATE icar_outbox SET state = ?, attempts = attempts + 1, last_sync_id = ?, updated_at = ? "
            f"WHERE id = ? AND state IN ({marks})", (state, sync_id, at, op_id, *OPEN)) == 1

    @staticmethod
    def reopen(unit: Transaction, op_id: int, at: str) -> bool:
        """A REFUSED operation opened again (FAILED), to be pushed once its cause is fixed;
        False when it was not REFUSED any more (`UniqueViolation`: the record has one open)."""
        return unit.execute("UPDATE icar_outbox SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
                            (FAILED, at, op_id, REFUSED)) == 1

    def latest(self, dealer: str, record_id: str, operation: str) -> int | None:
        """The id of the record's last operation of this kind."""
        return self.store.scalar("SELECT MAX(id) FROM icar_outbox WHERE dealer = ? AND record_id = ? "
                                 "AND operation = ?", (dealer, record_id, operation))

    def get(self, op_id: int) -> Operation | None:
        row = self.store.one("SELECT * FROM icar_outbox WHERE id = ?", (op_id,))
        return Operation.from_row(row) if row else None

    def open_for(self, dealer: str, record_id: str) -> Operation | None:
        marks = ", ".join("?" for _ in OPEN)
        row = self.store.one("SELECT * FROM icar_outbox WHERE dealer = ? AND record_id = ? "
                             f"AND state IN ({marks})", (dealer, record_id, *OPEN))
        return Operation.from_row(row) if row else None

    def page(self, dealer: str | None, states: tuple[str, ...], after: int, limit: int) -> list[Operation]:
        marks = ", ".join("?" for _ in states)
        sql, params = f"SELECT * FROM icar_outbox WHERE id > ? AND state IN ({marks})", [after, *states]
        if dealer is not None:
            sql += " AND dealer = ?"
            params.append(dealer)
        return [Operation.from_row(row) for row in self.store.query(sql + " ORDER BY id LIMIT ?",
                                                                    (*params, limit))]

    def has_open(self) -> bool:
        marks = ", ".join("?" for _ in OPEN)
        return self.store.scalar(f"SELECT COUNT(*) FROM icar_outbox WHERE state IN ({marks})", OPEN) > 0


def clear(unit: Transaction) -> None:
    for table in RESET_TABLES:
        unit.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
