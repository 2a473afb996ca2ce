"""The OpenFlex fake's operations: one service over its repositories. No Flask, no SQL.

Method name = route name = OpenAPI operationId (STYLE §3). Each write is one unit of work
(`unit()`): the vehicle, its new version and its events commit together before the method
returns, so an answered write is stored, and a refused one (the rule engine, If-Match,
404) stores nothing (rule R6: refused whole). Concurrent writes of one vehicle are ordered
by the store: a PATCH is written with a compare-and-swap on the version it was judged on
(judged again when another write came first); a reservation or an order reads the vehicle
with `lock=True` (FOR UPDATE) before checking and adding to it. Every write goes through
the contract's rule engine (`icarflex.contracts.evaluate`); the journal gets the vehicle
before and the verdict (`audit`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from icarflex.contracts import ApiVoSettings, Contract, ProfileError, evaluate, is_published
from icarflex.contracts.engine import order_price_violations
from icarflex.mocks.common.cache import BoundedCache
from icarflex.mocks.common.errors import ApiError, Conflict, ValidationFailed
from icarflex.mocks.common.store import Store, loads
from icarflex.mocks.openflex import events
from icarflex.mocks.openflex.errors import (
    OpportunityNotFound,
    ReservationNotFound,
    StaleVersion,
    VehicleNotFound,
    WrittenMeanwhile,
)
from icarflex.mocks.openflex.reference import IDENTITY_FIELDS, WMI_MAKES, ReferenceTable
from icarflex.mocks.openflex.repositories import COMPONENT, MIGRATIONS, Repositories
from icarflex.mocks.openflex.schemas import DATED_KIND
from icarflex.mocks.openflex.vehicles import PUBLISHED, etag, etag_matches, version_of, version_tag

Audit = Callable[..., None]
SALE_CHANNEL = "sale_channel"  # the lifeline precondition an order satisfies (rule R5)
CAS_TRIES = 100  # judgements of one PATCH before 409: each failed try means another write landed


class _WrittenFirst(Exception):
    """The compare-and-swap found a newer version: judge the PATCH again."""


def no_audit(**_: Any) -> None:
    """Outside a request nothing is journaled."""


def now() -> str:
    """UTC, microseconds, fixed width: timestamps compare as strings."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def as_utc(moment: datetime) -> str:
    """A query's datetime in the stored form (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def orderable_statuses(contract: Contract) -> set[str]:
    """Where a vehicle is for sale: a step of the lifeline leaves it through a sale
    (requires a sale channel), and no sale brought it there (LIVRAISON is sold)."""
    sales = [t for t in contract.lifeline.transitions if SALE_CHANNEL in t.requires]
    return {t.from_ for t in sales if t.from_} - {t.to for t in sales}


class OpenFlexService:
    def __init__(self, store: Store, contract: Contract, profile: ApiVoSettings,
                 reference: ReferenceTable, audit: Audit = no_audit, default_seed: int = 2025) -> None:
        store.migrate(COMPONENT, MIGRATIONS)
        self.store, self.contract, self.reference = store, contract, reference
        self.profile = profile        # the served profile: every dealer's base parameterization
        self.audit = audit            # adds vehicle_before / vehicle_id / verdict to the journal entry
        self.default_seed = default_seed
        # Settings parsed from a stored overlay, by its text: checked against the store on every
        # use (the text is read from it), so never stale.
        self._parsed: BoundedCache[str | None, ApiVoSettings] = BoundedCache(64)
        self.order_kind = contract.vehicle.reservations.order  # made by an order, never by POST
        leaving = {t.from_ for t in contract.lifeline.transitions}
        self.terminal_statuses = {s for s in contract.statuses if s not in leaving}  # SORTIE

    @contextmanager
    def unit(self) -> Iterator[Repositories]:
        """One unit of work: committed when the block ends (its events written last), or not at all."""
        with self.store.transaction() as tx:
            repositories = Repositories(tx, self.contract)
            yield repositories
            repositories.flush()

    @contextmanager
    def view(self, snapshot: bool = True) -> Iterator[Repositories]:
        """A read-only unit: one snapshot (`snapshot=False`: a read of one statement needs none)."""
        with self.store.read(snapshot) as tx:
            yield Repositories(tx, self.contract)

    # -- the API VO parameterization, per dealer -----------------------------------
    def settings_of(self, overlay: str | None) -> ApiVoSettings:
        """The settings a stored overlay (its text; None: none) gives, over the served profile."""
        settings = self._parsed.get(overlay)
        if settings is None:
            values = loads(overlay) if overlay else {}
            settings = ApiVoSettings(self.contract, {**self.profile.values, **values})
            self._parsed.put(overlay, settings)
        return settings

    def settings_for(self, r: Repositories, dealer: str) -> ApiVoSettings:
        return self.settings_of(r.settings.overlay(dealer))

    def get_settings(self, dealer: str) -> dict[str, Any]:
        with self.view() as r:
            return self.settings_for(r, dealer).to_json()

    def put_settings(self, dealer: str, overlay: Mapping[str, Any]) -> dict[str, Any]:
        """Merge any subset of the settings shape; rows equal to the profile's are not kept."""
        with self.unit() as r:
            try:
                merged = self.settings_of(r.settings.overlay(dealer, lock=True)).merge(
                    overlay, source="PUT /settings/api-vo")
            except ProfileError as exc:
                raise ValidationFailed(str(exc), fields=exc.fields) from exc
            r.settings.put(dealer, {row: merged[row] for row in merged.diff(self.profile)}, now())
        return merged.to_json()

    # -- vehicles (module « Véhicules ») ---------------------------------------------
    def get_vehicle(self, dealer: str, vehicle_id: str) -> dict[str, Any]:
        with self.view(snapshot=False) as r:  # one statement (Vehicles.snapshot)
            return self._vehicle(r, dealer, vehicle_id)

    def list_vehicles(self, dealer: str, limit: int = 100, cursor: str | None = None,
                      updated_since: datetime | None = None, **filters: Any) -> dict[str, Any]:
        """A page of the dealer's vehicles, oldest first; filters are exact (FILTER_COLUMNS)."""
        with self.view() as r:
            items, more = r.vehicles.page(dealer, filters, as_utc(updated_since) if updated_since else None,
                                          int(cursor) if cursor is not None else None, limit)
        return {"items": items, "next_cursor": str(more) if more is not None else None}

    def create_vehicle(self, dealer: str, actor: str, data: Mapping[str, Any]) -> dict[str, Any]:
        with self.unit() as r:
            return self._create(r, dealer, actor, data)

    def patch_vehicle(self, dealer: str, actor: str, vehicle_id: str, patch: Mapping[str, Any],
                      if_match: str | None = None) -> dict[str, Any]:
        """JSON merge patch judged on the stored state and written by a compare-and-swap on its
        version. The vehicle's row is locked first (`FOR UPDATE`; SQLite serialises its writers
        already), so concurrent writers of one vehicle queue instead of judging a version that
        another is replacing, then failing their swap (on PostgreSQL, 20 writers of one vehicle
        went 3× faster). The swap stays the guarantee: when it fails, judged again."""
        for _ in range(CAS_TRIES):
            try:
                return self._patch_once(dealer, actor, vehicle_id, patch, if_match)
            except _WrittenFirst:
                continue
        raise WrittenMeanwhile(vehicle_id)

    def _patch_once(self, dealer: str, actor: str, vehicle_id: str, patch: Mapping[str, Any],
                    if_match: str | None) -> dict[str, Any]:
        with self.unit() as r:
            found = r.vehicles.snapshot(vehicle_id, lock=True)
            if found is None or found[0]["dealer"] != dealer:  # another dealer's: not found (isolation)
                raise VehicleNotFound(vehicle_id)
            before, overlay = found
            self.audit(vehicle_before=before, vehicle_id=vehicle_id)
            if not etag_matches(if_match, before["version_tag"]):
                raise StaleVersion(str(if_match), etag(before))
            self._enforce(actor, before, patch, self.settings_of(overlay))
            after = self._merged(before, patch)
            changes = {k: after[k] for k in self.contract.vehicle.fields if after.get(k) != before.get(k)}
            if not changes:
                return before
            stamp, version = now(), version_of(before) + 1
            after.update(updated_at=stamp, version_tag=version_tag(version))
            after[PUBLISHED] = is_published(self.contract, after["status"], after["reservations"])
            if not r.vehicles.save(after, version_of(before), version):
                raise _WrittenFirst  # rolled back: judged again on what was written
            data = {"changes": changes, "before": {k: before.get(k) for k in changes}}
            r.events.record(dealer, events.VEHICLE_UPDATED, actor, vehicle_id, data, stamp)
            if "status" in changes:
                r.events.record(dealer, events.STATUS_CHANGED, actor, vehicle_id,
                                {"from": before["status"], "to": after["status"]}, stamp)
        return after

    def _vehicle(self, r: Repositories, dealer: str, vehicle_id: str, lock: bool = False) -> dict[str, Any]:
        vehicle = r.vehicles.get(vehicle_id, lock=lock)
        if vehicle is None or vehicle["dealer"] != dealer:  # another dealer's vehicle: not found (isolation)
            raise VehicleNotFound(vehicle_id)
        return vehicle

    def _enforce(self, actor: str, before: Mapping[str, Any] | None, change: Mapping[str, Any],
                 settings: ApiVoSettings) -> None:
        """The rule engine's verdict, journaled; any violation refuses the write whole."""
        verdict = evaluate(self.contract, settings, actor, before, change)
        self.audit(verdict=[v.to_json() for v in verdict])
        if verdict:
            raise ApiError.from_violations(verdict)

    def _create(self, r: Repositories, dealer: str, actor: str, data: Mapping[str, Any],
                opportunity_id: str | None = None,
                computed: Mapping[str, Any] | None = None) -> dict[str, Any]:
        change = {k: v for k, v in data.items() if v is not None}
        self.audit(vehicle_before=None)
        self._enforce(actor, None, change, self.settings_for(r, dealer))
        vehicle = {name: None for name in self.contract.vehicle.fields}
        vehicle.update(change, **(computed or {}), status=self.contract.entry_status)
        vehicle.update(self.reference.match(vehicle.get("vin"), vehicle.get("registration")).to_json())
        stamp = now()
        vehicle_id = r.vehicles.add(dealer, vehicle, stamp, opportunity_id)
        self.audit(vehicle_id=vehicle_id)
        created = {k: v for k, v in vehicle.items() if v is not None}
        r.events.record(dealer, events.VEHICLE_CREATED, actor, vehicle_id,
                        {**created, **({"opportunity_id": opportunity_id} if opportunity_id else {})}, stamp)
        return self._vehicle(r, dealer, vehicle_id)

    def _merged(self, before: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
        """RFC 7396 on the flat vehicle (null unsets), then the reference match if identity moved."""
        after = {**before, **patch}
        if any(after.get(f) != before.get(f) for f in IDENTITY_FIELDS):
            after.update(self.reference.match(after.get("vin"), after.get("registration")).to_json())
        return after

    # -- reservations (rule R5) ---------------------------------------------------------
    def create_reservation(self, dealer: str, actor: str, vehicle_id: str,
                           data: dict[str, Any]) -> dict[str, Any]:
        _check_dates(data)
        with self.unit() as r:
            return self._reserve(r, dealer, actor, vehicle_id, data)

    def delete_reservation(self, dealer: str, actor: str, vehicle_id: str, reservation_id: str) -> None:
        with self.unit() as r:
            vehicle = self._vehicle(r, dealer, vehicle_id, lock=True)
            self.audit(vehicle_before=vehicle, vehicle_id=vehicle_id)
            reservation = next((x for x in vehicle["reservations"] if x["id"] == reservation_id), None)
            if reservation is None:
                raise ReservationNotFound(reservation_id)
            if reservation["kind"] == self.order_kind:
                raise Conflict("Une réservation de commande se lève depuis l'opportunité "
                               f"{reservation['opportunity_id']}", fields=["kind"])
            stamp = now()
            r.reservations.remove(reservation_id)
            r.vehicles.touch(vehicle_id, stamp)
            r.events.record(dealer, events.RESERVATION_REMOVED, actor, vehicle_id, reservation, stamp)

    def _reserve(self, r: Repositories, dealer: str, actor: str, vehicle_id: str,
                 data: dict[str, Any]) -> dict[str, Any]:
        """Add a reservation to a vehicle of `dealer` (shared with the opportunity's order)."""
        vehicle = self._vehicle(r, dealer, vehicle_id, lock=True)
        self.audit(vehicle_before=vehicle, vehicle_id=vehicle_id)
        if vehicle["status"] in self.terminal_statuses:
            raise Conflict(f"Véhicule {vehicle_id} en statut {vehicle['status']} : plus de réservation",
                           fields=["status"])
        if data.get("blocks_sale") and any(x["blocks_sale"] for x in vehicle["reservations"]):
            raise Conflict(f"Véhicule {vehicle_id} déjà réservé (vente bloquée)", fields=["reservations"])
        stamp = now()
        reservation = r.reservations.add(dealer, {
            "id": None, "vehicle_id": vehicle_id, "kind": data["kind"], "blocks_sale": data["blocks_sale"],
            "blocks_publication": data["blocks_publication"], "until": data.get("until"),
            "opportunity_id": data.get("opportunity_id"), "comment": data.get("comment"),
            "created_at": stamp, "created_by": actor})
        r.vehicles.touch(vehicle_id, stamp)
        r.events.record(dealer, events.RESERVATION_ADDED, actor, vehicle_id, reservation, stamp)
        return reservation

    # -- opportunités ---------------------------------------------------------------------
    def create_opportunity(self, dealer: str, actor: str, data: dict[str, Any]) -> dict[str, Any]:
        with self.unit() as r:
            stamp = now()
            opportunity = r.opportunities.add(dealer, {
                "id": None, "dealer": dealer, "customer": data["customer"], "order": None,
                "created_at": stamp, "created_by": actor})
            r.events.record(dealer, events.OPPORTUNITY_CREATED, actor, None,
                            {"opportunity_id": opportunity["id"], "customer": data["customer"]}, stamp)
            return self._opportunity(r, dealer, opportunity["id"])

    def get_opportunity(self, dealer: str, opportunity_id: str) -> dict[str, Any]:
        with self.view() as r:
            return self._opportunity(r, dealer, opportunity_id)

    def estimate_trade_in(self, dealer: str, actor: str, opportunity_id: str,
                          data: dict[str, Any]) -> dict[str, Any]:
        """The trade-in estimation: a vehicle in the entry status, a REPRISE of this opportunity."""
        sets = self.contract.vehicle.trade_in_sets  # what a trade-in is (vehicle.yaml)
        for name, value in sets.items():
            if data.get(name) not in (None, value):
                raise ValidationFailed(f"Une reprise a pour {name} {value} (reçu : {data[name]})",
                                       fields=[name])
        stages = self.contract.vehicle.trade_in_stages
        computed = {stages.field: stages.estimated} if stages else {}
        with self.unit() as r:
            self._opportunity(r, dealer, opportunity_id)
            return self._create(r, dealer, actor, {**data, **sets}, opportunity_id, computed)

    def recover_trade_in(self, dealer: str, actor: str, opportunity_id: str,
                         vehicle_id: str) -> dict[str, Any]:
        """« Récupération du véhicule dans le stock » (guide §1): the deal is signed, the estimated
        trade-in becomes a stock vehicle (still Pré-Rentrée, until ICAR books its physical entry)."""
        stages = self._stages()
        with self.unit() as r:
            opportunity = self._opportunity(r, dealer, opportunity_id)
            vehicle = self._trade_in(r, dealer, opportunity, vehicle_id, stages.estimated, "récupérer")
            return self._set_stage(r, dealer, actor, vehicle, stages.recovered)

    def lose_opportunity(self, dealer: str, actor: str, opportunity_id: str) -> dict[str, Any]:
        """The opportunity is lost: its estimated trade-ins are withdrawn, never entered."""
        stages = self._stages()
        with self.unit() as r:
            opportunity = self._opportunity(r, dealer, opportunity_id, lock=True)
            if opportunity.get("lost_at") is not None or opportunity["order"] is not None:
                raise Conflict(f"L'opportunité {opportunity_id} est déjà "
                               f"{'perdue' if opportunity.get('lost_at') else 'commandée'}", fields=["order"])
            for vehicle_id in opportunity["trade_ins"]:
                vehicle = self._vehicle(r, dealer, vehicle_id, lock=True)
                if vehicle.get(stages.field) == stages.estimated:
                    self._set_stage(r, dealer, actor, vehicle, stages.withdrawn)
            doc = {k: v for k, v in opportunity.items() if k != "trade_ins"}
            r.opportunities.save({**doc, "lost_at": now()})
            return self._opportunity(r, dealer, opportunity_id)

    def _stages(self) -> Any:
        stages = self.contract.vehicle.trade_in_stages
        if stages is None:
            raise Conflict("Ce contrat ne suit pas les étapes d'une reprise (trade_in_stages)", fields=[])
        return stages

    def _trade_in(self, r: Repositories, dealer: str, opportunity: Mapping[str, Any], vehicle_id: str,
                  stage: str, doing: str) -> dict[str, Any]:
        stages = self._stages()
        if vehicle_id not in opportunity["trade_ins"]:
            raise VehicleNotFound(vehicle_id)
        vehicle = self._vehicle(r, dealer, vehicle_id, lock=True)
        if vehicle.get(stages.field) != stage:
            raise Conflict(f"Reprise {vehicle_id} {vehicle.get(stages.field)} : impossible de la {doing} "
                           f"(attendu {stage})", fields=[stages.field])
        return vehicle

    def _set_stage(self, r: Repositories, dealer: str, actor: str, before: dict[str, Any],
                   stage: str) -> dict[str, Any]:
        """A trade-in's stage, a field OpenFlex computes (read-only for every actor), versioned and
        in the change feed like any write."""
        field = self._stages().field
        stamp, version = now(), version_of(before) + 1
        after = {**before, field: stage, "updated_at": stamp, "version_tag": version_tag(version)}
        if not r.vehicles.save(after, version_of(before), version):
            raise WrittenMeanwhile(before["id"])
        r.events.record(dealer, events.VEHICLE_UPDATED, actor, before["id"],
                        {"changes": {field: stage}, "before": {field: before.get(field)}}, stamp)
        return self._vehicle(r, dealer, before["id"])

    def place_order(self, dealer: str, actor: str, opportunity_id: str,
                    data: dict[str, Any]) -> dict[str, Any]:
        """Order a stock vehicle for the opportunity: an ORDER reservation blocking sale and publication."""
        with self.unit() as r:
            opportunity = self._opportunity(r, dealer, opportunity_id, lock=True)
            if opportunity["order"] is not None:
                raise Conflict(f"L'opportunité {opportunity_id} a déjà une commande", fields=["order"])
            vehicle = self._vehicle(r, dealer, data["vehicle_id"], lock=True)
            self.audit(vehicle_before=vehicle, vehicle_id=vehicle["id"])
            refused = [replace(v, field="price") for v in
                       order_price_violations(self.contract, self.settings_for(r, dealer), data["price"])]
            self.audit(verdict=[v.to_json() for v in refused])
            if refused:
                raise ApiError.from_violations(refused)
            for_sale = orderable_statuses(self.contract)
            if vehicle["status"] not in for_sale:
                raise Conflict(f"Véhicule {vehicle['id']} en statut {vehicle['status']} : pas en vente "
                               f"({', '.join(sorted(for_sale))})", fields=["status"])
            reservation = self._reserve(r, dealer, actor, vehicle["id"], {
                "kind": self.order_kind, "blocks_sale": True, "blocks_publication": True,
                "opportunity_id": opportunity_id})
            stamp = now()
            order = {"vehicle_id": vehicle["id"], "price": data["price"], "reservation_id": reservation["id"],
                     "ordered_at": stamp, "ordered_by": actor}
            doc = {k: v for k, v in opportunity.items() if k != "trade_ins"}
            r.opportunities.save({**doc, "order": order})
            r.events.record(dealer, events.OPPORTUNITY_ORDERED, actor, vehicle["id"],
                            {"opportunity_id": opportunity_id, "price": data["price"],
                             "reservation_id": reservation["id"]}, stamp)
            return self._opportunity(r, dealer, opportunity_id)

    def _opportunity(self, r: Repositories, dealer: str, opportunity_id: str,
                     lock: bool = False) -> dict[str, Any]:
        doc = r.opportunities.get(dealer, opportunity_id, lock=lock)
        if doc is None:
            raise OpportunityNotFound(opportunity_id)
        return {**doc, "trade_ins": r.vehicles.trade_ins(dealer, opportunity_id)}

    # -- the change feed, the reference table ------------------------------------------
    def list_events(self, dealer: str, after: int = 0, limit: int = 100) -> dict[str, Any]:
        with self.view() as r:
            items = r.events.page(dealer, after, limit)
        return {"items": items, "next_cursor": items[-1]["cursor"] if items else after}

    def list_reference_vehicles(self, vin: str | None = None, registration: str | None = None,
                                make: str | None = None, limit: int = 50) -> dict[str, Any]:
        found = list(self.reference.search(vin, registration, make))
        return {"items": [e.to_json() for e in found[:limit]], "total": len(found),
                "wmi": dict(sorted(WMI_MAKES.items()))}

    # -- admin ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Every dealer's state emptied; settings back to the served profile. Ids are never reused."""
        with self.unit() as r:
            r.clear()

    def seed(self, dealer: str, count: int, seed: int | None = None) -> dict[str, Any]:
        from icarflex.mocks.openflex.seeding import Seeder
        with self.unit() as r:
            ids = Seeder(self, r, dealer, self.default_seed if seed is None else seed).vehicles(count)
        return {"dealer": dealer, "count": count, "seed": seed, "vehicles": ids}

    def health(self) -> dict[str, Any]:
        with self.view() as r:
            counts = r.counts()
        return {"counts": counts, "reference_entries": len(self.reference.entries),
                "profile_rows_changed": self.profile.diff(ApiVoSettings.defaults(self.contract))}


def _check_dates(data: dict[str, Any]) -> None:
    """A DATED reservation needs a date to come; the others have none."""
    until = data.get("until")
    if data["kind"] == DATED_KIND and until is None:
        raise ValidationFailed("Une réservation DATED demande la date de fin « until »", fields=["until"])
    if data["kind"] != DATED_KIND and until is not None:
        raise ValidationFailed(f"Une réservation {data['kind']} n'a pas de date de fin", fields=["until"])
    if until is not None and date.fromisoformat(until) < date.today():
        raise ValidationFailed(f"Date de fin {until} passée", fields=["until"])
