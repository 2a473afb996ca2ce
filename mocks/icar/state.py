"""The ICAR DMS backend: its VO stock and the operations that push to OpenFlex. No Flask.

Each write operation follows the same three steps, so a refusal never leaves the two
systems out of step:
  1. claim the DMS record in one SQLite transaction (status checked, record marked
     busy; the police number, when one is due, is allocated here, in order of entry);
  2. push to OpenFlex through the connector (outside any transaction: no lock is held
     across the network), every call logged in the sync log;
  3. only if OpenFlex accepted, apply the DMS change in a second transaction.
A refused (4xx) or failed (unreachable/5xx after retries) push leaves the DMS record
in its previous status; the sync log keeps the call and the police number allocated
in step 1 stays burned in the register (state REFUSED/FAILED), never reused — as in
a paper livre de police, where a line once written is never erased.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

from icarflex.contracts import load_contract
from icarflex.contracts.profile import MASTER_SETTING
from icarflex.mocks.common.errors import ApiError, Conflict, NotFound, ValidationFailed
from icarflex.mocks.common.journal import annotate
from icarflex.mocks.common.store import Migration, Row, Store, Transaction, UniqueViolation
from icarflex.mocks.icar import schemas
from icarflex.mocks.icar.connector import ConnectorSettings, OpenFlexConnector, Outcome
from icarflex.mocks.icar.errors import (
    RecordBusy,
    UpstreamNotFound,
    UpstreamRefused,
    UpstreamUnavailable,
    WrongDmsStatus,
)
from icarflex.mocks.icar.lifecycle import lifecycle, vat_regime_name
from icarflex.mocks.icar.records import SCHEMA as RECORDS_SCHEMA
from icarflex.mocks.icar.records import Records, insert, next_counter, update
from icarflex.mocks.icar.settings import IcarSettings
from icarflex.mocks.icar.synclog import REFUSED, CallContext, SyncLog, now
from icarflex.mocks.icar.synclog import SCHEMA as SYNC_SCHEMA
from icarflex.mocks.icar.views import record_json, register_json

MIGRATIONS = [Migration(1, RECORDS_SCHEMA + SYNC_SCHEMA)]
Json = dict[str, Any]


class IcarBackend:
    def __init__(self, store: Store, settings: IcarSettings) -> None:
        store.migrate("icar", MIGRATIONS)
        self.store, self.settings = store, settings
        self.life = lifecycle(load_contract())
        self.records = Records(store)
        self.sync_log = SyncLog(store)
        self.connector = OpenFlexConnector(
            ConnectorSettings(settings.openflex_url, settings.key_for, settings.timeout, settings.retries,
                              settings.backoff, settings.ca_bundle), self.sync_log)

    # -- reads --------------------------------------------------------------------------
    def list_vehicles(self, dealer: str, query: schemas.VehicleQuery) -> Json:
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
        rows = self.records.register(dealer, query.after, query.limit)
        return {"items": [register_json(r) for r in rows],
                "next_after": rows[-1]["id"] if rows else query.after}

    # -- match (rapprochement, R2) ----------------------------------------------------------
    def match_vehicle(self, dealer: str, body: schemas.MatchRequest) -> Json:
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
            with self.store.transaction() as conn:
                insert(conn, "icar_records", {
                    "id": record_id, "dealer": dealer, "openflex_id": vehicle["id"],
                    "status": self.life.arrival,
                    **{k: vehicle.get(k) for k in ("vin", "registration", "make", "model", "origin")},
                    "mileage": _int_or_none(vehicle.get(self.life.mileage_field)),
                    "vat_recoverable": _bool_or_none(vehicle.get(self.life.vat_field)),
                    "created_at": stamp, "updated_at": stamp})
                update(conn, "icar_sync_log", ("id", sync_id), {"record_id": record_id})
        except UniqueViolation as exc:  # a concurrent match of the same vehicle won
            raise Conflict(taken_in, fields=["openflex_id"]) from exc
        annotate(vehicle_id=record_id)
        return self.get_vehicle(dealer, record_id)

    def _find_in_openflex(self, dealer: str, body: schemas.MatchRequest) -> tuple[Json, int]:
        ctx = CallContext(dealer, "match", openflex_id=body.openflex_id)
        if body.openflex_id is not None:
            out = self.connector.get_vehicle(ctx, body.openflex_id)
            if out.entry.status == 404:
                raise UpstreamNotFound(f"VEH {body.openflex_id} inconnu d'OpenFlex", "openflex_id",
                                       out.entry.id)
            vehicle = self._accepted(out)
        else:
            key = "vin" if body.vin is not None else "registration"
            value = getattr(body, key)
            out = self.connector.find_vehicles(ctx, **{key: value})
            items = (self._accepted(out) or {}).get("items") or []
            if not items:
                raise UpstreamNotFound(f"Aucun VEH OpenFlex avec {key} {value}", key, out.entry.id)
            if len(items) > 1:
                raise Conflict(f"{len(items)} VEH OpenFlex avec {key} {value}", fields=[key])
            vehicle = items[0]
        if not isinstance(vehicle, Mapping) or not isinstance(vehicle.get("id"), str):
            raise UpstreamRefused(out.entry.status, {"detail": "réponse sans VEH"}, out.entry.id or 0)
        return dict(vehicle), out.entry.id or 0

    # -- physical entry (R3) --------------------------------------------------------------
    def book_physical_entry(self, dealer: str, record_id: str, body: schemas.PhysicalEntryRequest) -> Json:
        """Police number from the register, STOCK, and {status, police_number, mileage} pushed."""
        known = self._record(dealer, record_id)  # 404 before judging the input against the record
        entry_date = body.entry_date or date.today()
        if entry_date > date.today():
            raise ValidationFailed("La date d'entrée ne peut pas être dans le futur", fields=["entry_date"])
        matched_on = date.fromisoformat(str(known["created_at"])[:10])
        if entry_date < matched_on:  # the livre de police runs forward: no entry before the match
            raise ValidationFailed(f"La date d'entrée ne peut pas précéder le rapprochement ({matched_on})",
                                   fields=["entry_date"])

        def allocate(conn: Transaction, record: Row) -> tuple[str | None, int | None]:
            return self._allocate(conn, record, entry_date, body.police_number)

        with self._claimed(dealer, record_id, "physical_entry", (self.life.arrival,), allocate) as claim:
            record, (number, register_id) = claim
            change: Json = {"status": self.life.physical_entry}
            if number:
                change[self.life.police_field] = number
            if self._dms_may_write(record, self.life.mileage_field):
                change[self.life.mileage_field] = body.mileage
            self._push(record, "physical_entry", change, register_id=register_id)
            with self.store.transaction() as conn:
                update(conn, "icar_records", ("id", record_id), {
                    "status": self.life.stock, "police_number": number, "entry_date": entry_date.isoformat(),
                    "mileage": body.mileage, "updated_at": now()})
                self._register_state(conn, register_id, "BOOKED")
        return self.get_vehicle(dealer, record_id)

    def _allocate(self, conn: Transaction, record: Row, entry_date: date,
                  override: str | None) -> tuple[str | None, int | None]:
        """This entry's police number: the site's next line of the register, or the override."""
        if override == "":
            return None, None
        site = self.settings.site_for(record["dealer"])
        seq = None if override is not None else next_counter(conn, f"police:{site}")
        number = override if override is not None else f"{site}-{entry_date.year:04d}-{seq:06d}"
        try:
            register_id = insert(conn, "icar_police_register", returning="id", values={
                "site": site, "number": number, "seq": seq, "dealer": record["dealer"],
                "record_id": record["id"], "openflex_id": record["openflex_id"],
                "entry_date": entry_date.isoformat(), "state": "PENDING", "at": now(),
                "source": "REGISTER" if override is None else "OVERRIDE"})
        except UniqueViolation as exc:
            raise Conflict(f"Le N° de police {number} figure déjà au livre de police de {site}",
                           fields=["police_number"]) from exc
        return number, register_id

    @staticmethod
    def _register_state(conn: Transaction, register_id: int | None, state: str) -> None:
        if register_id is not None:
            update(conn, "icar_police_register", ("id", register_id), {"state": state})

    # -- FREVO, updates, raw writes -------------------------------------------------------
    def add_frevo_line(self, dealer: str, record_id: str, body: schemas.FrevoRequest) -> Json:
        """A reconditioning cost line; the new total is pushed to frevo_realised."""
        with self._claimed(dealer, record_id, "frevo", (self.life.stock,)) as (record, _):
            spent = sum(line["amount"] for line in self.records.frevo_lines(record_id))
            self._push(record, "frevo", {self.life.frevo_field: round(spent + body.amount, 2)})
            with self.store.transaction() as conn:
                insert(conn, "icar_frevo_lines", {"record_id": record_id, "label": body.label,
                                                  "amount": body.amount, "created_at": now()})
                update(conn, "icar_records", ("id", record_id), {"updated_at": now()})
        return self.get_vehicle(dealer, record_id)

    def update_vehicle(self, dealer: str, record_id: str, body: schemas.UpdateRequest) -> Json:
        """Mileage and VAT regime, DMS-owned data, pushed as they are."""
        change = body.model_dump(exclude_none=True)
        with self._claimed(dealer, record_id, "update", (self.life.arrival, self.life.stock)) as (record, _):
            self._push(record, "update", change)
            with self.store.transaction() as conn:
                values = {k: _bool_or_none(v) if isinstance(v, bool) else v for k, v in change.items()}
                update(conn, "icar_records", ("id", record_id), {**values, "updated_at": now()})
        return self.get_vehicle(dealer, record_id)

    def write_openflex_fields(self, dealer: str, record_id: str, body: schemas.OpenflexWriteRequest) -> Json:
        """Push any fields as a DMS would, to show what a misbehaving connector gets back."""
        with self._claimed(dealer, record_id, "openflex_write", None) as (record, _):
            out = self._push(record, "openflex_write", body.fields)
        return {"record": self.get_vehicle(dealer, record_id), "sync": self.sync_log.get(out.entry.id or 0),
                "openflex": out.body}

    # -- invoice (R4: the exit is made by ICAR at invoicing) --------------------------------
    def create_invoice(self, dealer: str, record_id: str, body: schemas.InvoiceRequest) -> Json:
        """FACTURE, and {status: SORTIE, invoiced_sale_price, vat_recoverable} pushed."""
        with self._claimed(dealer, record_id, "invoice", (self.life.stock,)) as (record, _):
            read = self.connector.get_vehicle(self._ctx(record, "invoice"), record["openflex_id"])
            vehicle = self._accepted(read) or {}
            origin = vehicle.get("origin")
            vat, source = self._vat(vehicle, body.vat_recoverable)
            change: Json = {"status": self.life.exit,
                            self.life.invoiced_price_field: body.invoiced_sale_price}
            if self._dms_may_write(record, self.life.vat_field):
                change[self.life.vat_field] = vat
            self._push(record, "invoice", change, etag=read.etag)
            with self.store.transaction() as conn:
                # Invoices are numbered only once issued (no gap in the invoice sequence).
                number = f"F{date.today().year:04d}-{next_counter(conn, f'invoice:{dealer}'):06d}"
                insert(conn, "icar_invoices", {
                    "number": number, "dealer": dealer, "record_id": record_id, "customer": body.customer,
                    "invoiced_sale_price": body.invoiced_sale_price, "vat_recoverable": int(vat),
                    "vat_regime": vat_regime_name(vat), "vat_source": source, "origin": origin,
                    "issued_at": now()})
                update(conn, "icar_records", ("id", record_id), {
                    "status": self.life.invoiced, "vat_recoverable": int(vat), "updated_at": now()})
        return self.get_vehicle(dealer, record_id)

    def _vat(self, vehicle: Json, requested: bool | None) -> tuple[bool, str]:
        """VAT recoverable (rule R9): as requested on the invoice, else as stated at the purchase (the
        vehicle's own value in OpenFlex), else as the origin fixes it (a private seller: margin)."""
        if requested is not None:
            return requested, "REQUEST"
        if isinstance(vehicle.get(self.life.vat_field), bool):
            return vehicle[self.life.vat_field], "PURCHASE"
        origin = vehicle.get("origin")
        fixed = load_contract().fixed_vat_recoverable(origin if isinstance(origin, str) else None)
        if fixed is None:
            raise ValidationFailed(f"Origine OpenFlex {origin!r} : le régime de TVA se déclare à l'achat, "
                                   "préciser vat_recoverable", fields=[self.life.vat_field])
        return fixed, "ORIGIN"

    # -- shared steps ---------------------------------------------------------------------
    @contextmanager
    def _claimed(self, dealer: str, record_id: str, operation: str, statuses: tuple[str, ...] | None,
                 on_claim: Callable[[Transaction, Row], Any] | None = None
                 ) -> Iterator[tuple[Row, Any]]:
        """Step 1: check the record's status and mark it busy, in one transaction; `on_claim`
        runs inside it (the police number allocation). Released when the block ends."""
        annotate(vehicle_id=record_id)
        with self.store.transaction() as conn:
            record = conn.one("SELECT * FROM icar_records WHERE dealer = ? AND id = ?",
                              (dealer, record_id), lock=True)
            if record is None:
                raise NotFound("VEH ICAR", record_id)
            if statuses is not None and record["status"] not in statuses:
                raise WrongDmsStatus(record["status"], statuses, operation)
            if not Records.claim(conn, record_id, operation):
                raise RecordBusy(record_id, record["busy"] or operation)
            extra = on_claim(conn, record) if on_claim else None
        try:
            yield record, extra
        finally:
            self.records.release(record_id)

    def _push(self, record: Row, operation: str, change: Mapping[str, Any], *,
              etag: str | None = None, register_id: int | None = None) -> Outcome:
        """Step 2: the write to OpenFlex; raises (once logged) unless it was accepted."""
        out = self.connector.patch_vehicle(self._ctx(record, operation), record["openflex_id"], change, etag)
        if not out.ok:
            with self.store.transaction() as conn:
                self._register_state(conn, register_id, "REFUSED" if out.refused else "FAILED")
            self._accepted(out)
        return out

    def _dms_may_write(self, record: Row, field: str) -> bool:
        """Optional data goes out only where the API VO parameterization lets the DMS write it
        (guide §2): a well-behaved connector reads it first. What the move needs (status, the
        police number) always goes, so OpenFlex refuses it naming the row; an unreadable
        parameterization lets OpenFlex judge."""
        out = self.connector.get_settings(self._ctx(record, "settings"))
        body = out.body if out.ok and isinstance(out.body, Mapping) else None
        if body is None or (body.get("settings") or {}).get(MASTER_SETTING):
            return True
        return bool(((body.get("fields") or {}).get(field) or {}).get("dms_modifiable", True))

    def _accepted(self, out: Outcome) -> Any:
        """The body of an accepted call; raises the upstream error of a refused or failed one."""
        if out.ok:
            return out.body
        entry = out.entry
        if entry.outcome == REFUSED:
            problem = entry.problem if isinstance(entry.problem, Mapping) else {"detail": str(entry.problem)}
            raise UpstreamRefused(entry.status, problem, entry.id or 0)
        raise UpstreamUnavailable(entry.error or "", entry.status, entry.attempts, entry.id or 0)

    def _ctx(self, record: Row, operation: str) -> CallContext:
        return CallContext(record["dealer"], operation, record["id"], record["openflex_id"])

    def _record(self, dealer: str, record_id: str) -> Row:
        record = self.records.get(dealer, record_id)
        if record is None:
            raise NotFound("VEH ICAR", record_id)
        return record

    def _json(self, record: Row) -> Json:
        return record_json(record, self.records.frevo_lines(record["id"]), self.records.invoice(record["id"]),
                           self.sync_log.last_for(record["dealer"], record["id"]))

    # -- admin (icarflex.mocks.common.admin) ---------------------------------------------------------
    def reset(self) -> None:
        self.records.clear()
        self.sync_log.clear()

    def health(self) -> Json:
        return {"records": self.records.count(), "openflex_url": self.settings.openflex_url}

    def seed(self, dealer: str, count: int, seed: int | None) -> Json:
        """Take in up to `count` vehicles OpenFlex holds in its entry status, not yet matched."""
        out = self.connector.find_vehicles(CallContext(dealer, "seed"), status=self.life.openflex_entry,
                                           limit=min(500, count * 4))
        taken: list[str] = []
        for vehicle in (self._accepted(out) or {}).get("items") or []:
            if len(taken) >= count:
                break
            if self.records.by_openflex_id(dealer, str(vehicle.get("id"))) is not None:
                continue
            try:
                match = schemas.MatchRequest(openflex_id=vehicle["id"])
                taken.append(self.match_vehicle(dealer, match)["id"])
            except ApiError:
                continue
        return {"dealer": dealer, "created": len(taken), "items": taken}


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, bool) else None
