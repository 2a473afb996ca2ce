"""The ICAR DMS service: its VO stock and the operations that push to OpenFlex. No Flask, no SQL.

Every operation that pushes to OpenFlex (physical entry, FREVO, mileage/VAT update, invoice)
goes through the outbox (`repositories.Outbox`), so a crash at any point leaves nothing
split for good:
  1. record: one unit of work checks the record's status, takes the police number when one is
     due (the site's counter and its register line) and records the operation, PENDING, with
     what it pushes and what the DMS applies once OpenFlex accepted — all of it, or nothing;
  2. push: the connector sends it, no transaction held across the network, every call logged
     in the sync log with the operation's id;
  3. settle: one unit of work moves the operation to DONE and applies the DMS change, or to
     REFUSED (its police number voided in the register, never reused), by a compare-and-swap
     on its state: applied once, whoever settles it. OpenFlex unreachable: it stays open (FAILED).
An open operation (PENDING after a crash, FAILED) is pushed again, with the same values and the
same police number, by the next call on its record, after a start (`start`), by
`POST /outbox/resume` or by a replay of its sync entry; a re-push reads the vehicle first and
sends nothing if the earlier one landed. No record is ever locked: an open operation is finished
by whoever comes next. The steps themselves run in `icarflex.mocks.icar.outbox`.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from icarflex.contracts import Contract
from icarflex.contracts.profile import MASTER_SETTING
from icarflex.mocks.common.errors import ApiError, Conflict, NotFound, ValidationFailed
from icarflex.mocks.common.journal import annotate
from icarflex.mocks.common.store import Row, Store, Transaction, UniqueViolation
from icarflex.mocks.icar import schemas
from icarflex.mocks.icar.connector import ConnectorSettings, OpenFlexConnector, Outcome
from icarflex.mocks.icar.errors import (
    NotDelivered,
    UpstreamNotFound,
    UpstreamRefused,
    WrongDmsStatus,
    accepted,
)
from icarflex.mocks.icar.lifecycle import lifecycle
from icarflex.mocks.icar.migrations import MIGRATIONS
from icarflex.mocks.icar.outbox import Intent, Operations, Prepare
from icarflex.mocks.icar.repositories import (
    DONE,
    OPEN,
    REFUSED,
    Operation,
    Outbox,
    PoliceRegister,
    Records,
    clear,
)
from icarflex.mocks.icar.settings import IcarSettings
from icarflex.mocks.icar.synclog import CallContext, SyncLog, now
from icarflex.mocks.icar.views import operation_json, record_json, register_json

Json = dict[str, Any]


class IcarService:
    def __init__(self, store: Store, settings: IcarSettings, contract: Contract) -> None:
        store.migrate("icar", MIGRATIONS)
        self.store, self.settings, self.contract = store, settings, contract
        self.life = lifecycle(contract)
        self.records, self.register = Records(store), PoliceRegister(store)
        self.outbox, self.sync_log = Outbox(store), SyncLog(store)
        self.connector = OpenFlexConnector(
            ConnectorSettings(settings.openflex_url, settings.key_for, settings.timeout, settings.retries,
                              settings.backoff, settings.ca_bundle, settings.mapping), self.sync_log)
        self.operations = Operations(store, self.outbox, self.sync_log, self.connector, {
            "physical_entry": self._apply_entry, "frevo": self._apply_frevo, "update": self._apply_update,
            "invoice": self._apply_invoice})

    def start(self) -> None:
        """After a start: push again, in the background, every operation a crash left open."""
        self.operations.resume_in_background()

    # -- reads --------------------------------------------------------------------------
    def list_vehicles(self, dealer: str, query: Any) -> Json:
        rows = self.records.page(dealer, int(query.cursor or 0), query.limit + 1, {
            "status": query.status, "police_number": query.police_number, "openflex_id": query.openflex_id})
        more = len(rows) > query.limit
        rows = rows[:query.limit]
        return {"items": [self._json(r) for r in rows], "next_cursor": str(rows[-1]["seq"]) if more else None}

    def get_vehicle(self, dealer: str, record_id: str) -> Json:
        return self._json(self._record(dealer, record_id))

    def list_sync_log(self, dealer: str | None, query: schemas.SyncLogQuery) -> Json:
        items = self.sync_log.entries(dealer, after=query.after, limit=query.limit, record_id=query.record_id,
                                      outcome=query.outcome, operation=query.operation)
        return {"items": items, "next_after": items[-1]["id"] if items else query.after}

    def list_police_register(self, dealer: str, query: schemas.RegisterQuery) -> Json:
        rows = self.register.page(dealer, query.after, query.limit)
        return {"items": [register_json(r) for r in rows],
                "next_after": rows[-1]["id"] if rows else query.after}

    def list_outbox(self, dealer: str | None, query: schemas.OutboxQuery) -> Json:
        states = (query.state,) if query.state else (*OPEN, DONE, REFUSED)
        ops = self.outbox.page(dealer, states, query.after, query.limit)
        return {"items": [operation_json(op) for op in ops], "next_after": ops[-1].id if ops else query.after}

    # -- match (rapprochement, R2) ----------------------------------------------------------
    def match_vehicle(self, dealer: str, body: Any) -> Json:
        """Take in a vehicle OpenFlex holds in its entry status: a DMS record in ARRIVAGE."""
        vehicle, sync_id = self._find_in_openflex(dealer, body)
        taken_in = f"Le VEH OpenFlex {vehicle['id']} est déjà rapproché dans ICAR"
        if self.records.by_openflex_id(dealer, vehicle["id"]) is not None:
            raise Conflict(taken_in, fields=["openflex_id"])
        if vehicle.get("status") != self.life.openflex_entry:
            raise Conflict(f"Le VEH OpenFlex est au statut {vehicle.get('status')} ; seul un VEH en "
                           f"{self.life.openflex_entry} est rapproché", fields=["status"])
        record_id, stamp = uuid.uuid4().hex, now()
        try:
            with self.store.transaction() as unit:
                Records.add(unit, {
                    "id": record_id, "dealer": dealer, "openflex_id": vehicle["id"],
                    "status": self.life.arrival,
                    **{k: vehicle.get(k) for k in ("vin", "registration", "make", "model", "origin")},
                    "mileage": _int_or_none(vehicle.get(self.life.mileage_field)),
                    "vat_recoverable": _bool_or_none(vehicle.get(self.life.vat_field)),
                    "created_at": stamp, "updated_at": stamp})
                SyncLog.attach(unit, sync_id, record_id)
        except UniqueViolation as exc:  # a concurrent match of the same vehicle won
            raise Conflict(taken_in, fields=["openflex_id"]) from exc
        annotate(vehicle_id=record_id)
        return self.get_vehicle(dealer, record_id)

    def _find_in_openflex(self, dealer: str, body: Any) -> tuple[Json, int]:
        ctx = CallContext(dealer, "match", openflex_id=body.openflex_id)
        if body.openflex_id is not None:
            out = self.connector.get_vehicle(ctx, body.openflex_id)
            if out.entry.status == 404:
                raise UpstreamNotFound(f"VEH {body.openflex_id} inconnu d'OpenFlex", "openflex_id",
                                       out.entry.id)
            vehicle = accepted(out)
        else:
            key = "vin" if body.vin is not None else "registration"
            value = getattr(body, key)
            out = self.connector.find_vehicles(ctx, **{key: value})
            items = (accepted(out) or {}).get("items") or []
            if not items:
                raise UpstreamNotFound(f"Aucun VEH OpenFlex avec {key} {value}", key, out.entry.id)
            if len(items) > 1:
                raise Conflict(f"{len(items)} VEH OpenFlex avec {key} {value}", fields=[key])
            vehicle = items[0]
        if not isinstance(vehicle, Mapping) or not isinstance(vehicle.get("id"), str):
            raise UpstreamRefused(out.entry.status, {"detail": "réponse sans VEH"}, out.entry.id or 0)
        return dict(vehicle), out.entry.id or 0

    # -- physical entry (R3) --------------------------------------------------------------
    def book_physical_entry(self, dealer: str, record_id: str, body: Any) -> Json:
        """Police number from the register, STOCK, and {status, police_number, mileage} pushed."""
        known = self._record(dealer, record_id)  # 404 before judging the input against the record
        entry_date = body.entry_date or date.today()
        if entry_date > date.today():
            raise ValidationFailed("La date d'entrée ne peut pas être dans le futur", fields=["entry_date"])
        matched_on = date.fromisoformat(str(known["created_at"])[:10])
        if entry_date < matched_on:  # the livre de police runs forward: no entry before the match
            raise ValidationFailed(f"La date d'entrée ne peut pas précéder le rapprochement ({matched_on})",
                                   fields=["entry_date"])
        if self.operations.settle_open(dealer, record_id, "physical_entry"):
            return self.get_vehicle(dealer, record_id)
        with_mileage = self._dms_may_write(known, self.life.mileage_field)

        def prepare(unit: Transaction, record: Row) -> Intent:
            number, line = self._allocate(unit, record, entry_date, body.police_number)
            change: Json = {"status": self.life.physical_entry}
            if number:
                change[self.life.police_field] = number
            if with_mileage:
                change[self.life.mileage_field] = body.mileage
            return Intent(change, {"entry_date": entry_date.isoformat(), "mileage": body.mileage},
                          landed={self.life.police_field: number} if number else None,
                          register_id=line, police_number=number)

        return self._operate(dealer, record_id, "physical_entry", (self.life.arrival,), prepare)

    def _allocate(self, unit: Transaction, record: Row, entry_date: date,
                  override: str | None) -> tuple[str | None, int | None]:
        """This entry's police number: the site's next line of the register, or the override."""
        if override == "":
            return None, None
        site = self.settings.site_for(record["dealer"])
        seq = None if override is not None else PoliceRegister.next_line(unit, site)
        number = override if override is not None else f"{site}-{entry_date.year:04d}-{seq:06d}"
        try:
            line = PoliceRegister.write(unit, {
                "site": site, "number": number, "seq": seq, "dealer": record["dealer"],
                "record_id": record["id"], "openflex_id": record["openflex_id"],
                "entry_date": entry_date.isoformat(), "state": "PENDING", "at": now(),
                "source": "REGISTER" if override is None else "OVERRIDE"})
        except UniqueViolation as exc:  # the unit is rolled back whole: no number taken
            raise Conflict(f"Le N° de police {number} figure déjà au livre de police de {site}",
                           fields=["police_number"]) from exc
        return number, line

    def _apply_entry(self, unit: Transaction, op: Operation) -> None:
        Records.update(unit, op.record_id, {
            "status": self.life.stock, "police_number": op.police_number, "entry_date": op.data["entry_date"],
            "mileage": op.data["mileage"], "updated_at": now()})
        PoliceRegister.set_state(unit, op.register_id, "BOOKED")

    # -- FREVO, updates, raw writes -------------------------------------------------------
    def add_frevo_line(self, dealer: str, record_id: str, body: schemas.FrevoRequest) -> Json:
        """A reconditioning cost line; the new total is pushed to frevo_realised."""
        self._record(dealer, record_id)
        self.operations.settle_open(dealer, record_id, "frevo")

        def prepare(unit: Transaction, record: Row) -> Intent:
            total = round(Records.frevo_total(unit, record_id) + body.amount, 2)
            return Intent({self.life.frevo_field: total}, {"label": body.label, "amount": body.amount})

        return self._operate(dealer, record_id, "frevo", (self.life.stock,), prepare)

    def _apply_frevo(self, unit: Transaction, op: Operation) -> None:
        Records.add_frevo_line(unit, {"record_id": op.record_id, "label": op.data["label"],
                                      "amount": op.data["amount"], "created_at": now()})
        Records.update(unit, op.record_id, {"updated_at": now()})

    def update_vehicle(self, dealer: str, record_id: str, body: Any) -> Json:
        """Mileage and VAT regime, DMS-owned data, pushed as they are."""
        self._record(dealer, record_id)
        self.operations.settle_open(dealer, record_id, "update")
        change = body.model_dump(exclude_none=True)
        values = {k: _bool_or_none(v) if isinstance(v, bool) else v for k, v in change.items()}
        return self._operate(dealer, record_id, "update", (self.life.arrival, self.life.stock),
                             lambda unit, record: Intent(change, {"values": values}))

    def _apply_update(self, unit: Transaction, op: Operation) -> None:
        Records.update(unit, op.record_id, {**op.data["values"], "updated_at": now()})

    def write_openflex_fields(self, dealer: str, record_id: str, body: schemas.OpenflexWriteRequest) -> Json:
        """Push any fields as a DMS would, to show what a misbehaving connector gets back. The DMS
        record does not change, so nothing of it goes through the outbox."""
        record = self._record(dealer, record_id)
        out = self.connector.patch_vehicle(self._ctx(record, "openflex_write"), record["openflex_id"],
                                           body.fields)
        accepted(out)
        return {"record": self.get_vehicle(dealer, record_id), "sync": self.sync_log.get(out.entry.id or 0),
                "openflex": out.body}

    # -- invoice (R4: the exit is made by ICAR at invoicing) --------------------------------
    def create_invoice(self, dealer: str, record_id: str, body: Any) -> Json:
        """FACTURE, and {status: SORTIE, invoiced_sale_price, vat_recoverable} pushed. With the
        capability that lets the DMS exit (« Sortie des véhicules en statut livraison ») at NON in the
        dealer's parameterization, no status is pushed: ICAR invoices a vehicle OpenFlex shows
        delivered, and an OpenFlex user exits it (our reading, docs/decisions.md)."""
        known = self._record(dealer, record_id)
        if self.operations.settle_open(dealer, record_id, "invoice"):
            return self.get_vehicle(dealer, record_id)
        if known["status"] != self.life.stock:  # before any call to OpenFlex
            raise WrongDmsStatus(known["status"], (self.life.stock,), "invoice")
        read = self.connector.get_vehicle(self._ctx(known, "invoice"), known["openflex_id"])
        vehicle = accepted(read) or {}
        origin = vehicle.get(self.contract.vehicle.vat_fixed_by)
        vat, source = self._vat(vehicle, body.vat_recoverable)
        parameterization = self._parameterization(known)
        change: Json = {self.life.invoiced_price_field: body.invoiced_sale_price}
        if self._dms_exits(parameterization):
            change = {"status": self.life.exit, **change}
        elif vehicle.get("status") != self.life.delivered:  # the exit left to OpenFlex follows a delivery
            raise NotDelivered(vehicle.get("status"), self.life.delivered, self.life.exit_gate)
        if _may_write(parameterization, self.life.vat_field):
            change[self.life.vat_field] = vat
        data = {"customer": body.customer, "invoiced_sale_price": body.invoiced_sale_price,
                "vat_recoverable": vat, "vat_source": source, "origin": origin}
        return self._operate(dealer, record_id, "invoice", (self.life.stock,),
                             lambda unit, record: Intent(change, data, etag=read.etag))

    def _dms_exits(self, parameterization: Mapping[str, Any] | None) -> bool:
        """Does ICAR exit the vehicle at invoicing? The capability row that lets the DMS exit
        (lifeline.yaml, the exit's `gated_actors`) as the dealer's parameterization has it; an
        unreadable one: yes, and OpenFlex judges the move."""
        gate = self.life.exit_gate
        if gate is None or parameterization is None:
            return True
        return (parameterization.get("capabilities") or {}).get(gate) is not False

    def _apply_invoice(self, unit: Transaction, op: Operation) -> None:
        vat = bool(op.data["vat_recoverable"])
        Records.add_invoice(unit, op.dealer, date.today().year, {
            "record_id": op.record_id, "customer": op.data["customer"],
            "invoiced_sale_price": op.data["invoiced_sale_price"], "vat_recoverable": int(vat),
            "vat_regime": self.contract.vat_regime_name(vat), "vat_source": op.data["vat_source"],
            "origin": op.data["origin"], "issued_at": now()})
        Records.update(unit, op.record_id, {"status": self.life.invoiced, "vat_recoverable": int(vat),
                                            "updated_at": now()})

    def _vat(self, vehicle: Json, requested: bool | None) -> tuple[bool, str]:
        """VAT recoverable (rule R9): as requested on the invoice, else as stated at the purchase (the
        vehicle's own value in OpenFlex), else as the origin fixes it (a private seller: margin)."""
        if requested is not None:
            return requested, "REQUEST"
        if isinstance(vehicle.get(self.life.vat_field), bool):
            return vehicle[self.life.vat_field], "PURCHASE"
        origin = vehicle.get(self.contract.vehicle.vat_fixed_by)
        fixed = self.contract.fixed_vat_recoverable(origin if isinstance(origin, str) else None)
        if fixed is None:
            raise ValidationFailed(f"Origine OpenFlex {origin!r} : le régime de TVA se déclare à l'achat, "
                                   "préciser vat_recoverable", fields=[self.life.vat_field])
        return fixed, "ORIGIN"

    # -- the outbox -------------------------------------------------------------------------
    def _operate(self, dealer: str, record_id: str, operation: str, statuses: tuple[str, ...],
                 prepare: Prepare) -> Json:
        """Record the operation (step 1), push and settle it (steps 2 and 3); the record after it."""
        annotate(vehicle_id=record_id)
        op = self.operations.begin(dealer, record_id, operation, statuses, prepare)
        if op is not None:
            self.operations.finish(*self.operations.drive(op, resume=False))
        return self.get_vehicle(dealer, record_id)

    def resume_operations(self, dealer: str | None) -> Json:
        """The recovery call: push again every open operation (of the dealer; all for None)."""
        settled = self.operations.resume(dealer)
        return {"items": [operation_json(op) for op in settled],
                "next_after": settled[-1].id if settled else 0}

    def replay_sync_entry(self, dealer: str | None, entry_id: int) -> Json:
        """Push a FAILED write of the sync log again, with its values (its police number)."""
        op, out, entry = self.operations.replay(dealer, entry_id)
        return self._replayed(op, out, entry)

    def _replayed(self, op: Operation | None, out: Outcome, entry: Json) -> Json:
        record = self.records.get(entry["dealer"], entry["record_id"] or "")
        return {"operation": operation_json(op) if op else None, "sync": self.sync_log.get(out.entry.id or 0),
                "record": self._json(record) if record else None}

    # -- shared steps ---------------------------------------------------------------------
    def _dms_may_write(self, record: Row, field: str) -> bool:
        """Optional data goes out only where the API VO parameterization lets the DMS write it
        (guide §2): a well-behaved connector reads it first."""
        return _may_write(self._parameterization(record), field)

    def _parameterization(self, record: Row) -> Mapping[str, Any] | None:
        """The dealer's active API VO parameterization as OpenFlex serves it (None: unreadable)."""
        out = self.connector.get_settings(self._ctx(record, "settings"))
        return out.body if out.ok and isinstance(out.body, Mapping) else None

    def _ctx(self, record: Row, operation: str) -> CallContext:
        return CallContext(record["dealer"], operation, record["id"], record["openflex_id"])

    def _record(self, dealer: str, record_id: str) -> Row:
        record = self.records.get(dealer, record_id)
        if record is None:
            raise NotFound("VEH ICAR", record_id)
        return record

    def _json(self, record: Row) -> Json:
        return record_json(record, self.records.frevo_lines(record["id"]), self.records.invoice(record["id"]),
                           self.sync_log.last_for(record["dealer"], record["id"]),
                           self.outbox.open_for(record["dealer"], record["id"]))

    # -- admin (icarflex.mocks.common.admin) ---------------------------------------------------------
    def reset(self) -> None:
        with self.store.transaction() as unit:
            clear(unit)
            SyncLog.clear(unit)

    def health(self) -> Json:
        return {"records": self.records.count(), "openflex_url": self.settings.openflex_url}

    def seed(self, dealer: str, count: int, seed: int | None) -> Json:
        """Take in up to `count` vehicles OpenFlex holds in its entry status, not yet matched."""
        out = self.connector.find_vehicles(CallContext(dealer, "seed"), status=self.life.openflex_entry,
                                           limit=min(500, count * 4))
        taken: list[str] = []
        for vehicle in (accepted(out) or {}).get("items") or []:
            if len(taken) >= count:
                break
            if self.records.by_openflex_id(dealer, str(vehicle.get("id"))) is not None:
                continue
            try:
                match = schemas.models(self.contract).MatchRequest(openflex_id=vehicle["id"])
                taken.append(self.match_vehicle(dealer, match)["id"])
            except ApiError:
                continue
        return {"dealer": dealer, "created": len(taken), "items": taken}


def _may_write(parameterization: Mapping[str, Any] | None, field: str) -> bool:
    """May the DMS write `field` under this parameterization? What a move needs (status, the police
    number) always goes, so OpenFlex refuses it naming the row; an unreadable parameterization lets
    OpenFlex judge."""
    if parameterization is None or (parameterization.get("settings") or {}).get(MASTER_SETTING):
        return True
    return bool(((parameterization.get("fields") or {}).get(field) or {}).get("dms_modifiable", True))


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, bool) else None
