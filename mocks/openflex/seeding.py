"""Seed data: faker-generated vehicles in plausible states, walked along their lifeline.

Each seeded vehicle is a reference vehicle (so its rapprochement is RECONCILED), with
a destination, and is moved step by step along that destination's lifeline by the
actor the contract names, each step's preconditions prepared first (police number,
blocking reservation, invoiced price) and checked by the rule engine under the
dealer's parameterization: a step the profile forbids ends the walk there.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from faker import Faker
from icarflex.contracts import ApiVoSettings, Contract, evaluate
from icarflex.contracts.engine import unmet_preconditions
from icarflex.contracts.models import Precondition, Transition
from icarflex.mocks.openflex import events
from icarflex.mocks.openflex.repositories import Repositories
from icarflex.mocks.openflex.service import OpenFlexService, now

SEED_ACTOR = "admin"
Prepare = Callable[[Precondition, dict[str, Any], list[dict[str, Any]], Any], None]


class Seeder:
    """Seeds one dealer's vehicles inside the caller's unit of work."""

    def __init__(self, service: OpenFlexService, r: Repositories, dealer: str, seed: int) -> None:
        self.contract, self.reference = service.contract, service.reference
        self.r, self.dealer = r, dealer
        self.fake = Faker("fr_FR")
        self.fake.seed_instance(seed)
        self.settings = service.settings_for(r, dealer)

    def vehicles(self, count: int) -> list[str]:
        return [self._seed_vehicle(self.dealer, self.fake, self.settings) for _ in range(count)]

    def _seed_vehicle(self, dealer: str, fake: Faker, settings: ApiVoSettings) -> str:
        rnd = fake.random
        destination = rnd.choice(sorted(self.contract.lifeline.lifelines))
        vehicle = self._seed_data(fake, destination, settings)
        reservations: list[dict[str, Any]] = []
        line = self.contract.lifeline.lifelines[destination]
        prepare = self._preparations(dealer)
        for status in line[1:rnd.randrange(len(line)) + 1]:
            transition = self.contract.transition(vehicle["status"], status, destination)
            actor = _actor_for(transition, settings) if transition else None
            if actor is None:
                break
            state = {**vehicle, "reservations": reservations}
            for name in unmet_preconditions(self.contract, transition, state):
                prepare(self.contract.lifeline.preconditions[name], vehicle, reservations, rnd)
            current = {**vehicle, "reservations": reservations}
            if evaluate(self.contract, settings, actor, current, {"status": status}):
                break
            vehicle["status"] = status
        stamp = now()
        vehicle_id = self.r.vehicles.add(dealer, vehicle, stamp)
        for reservation in reservations:
            reservation.update(id=None, vehicle_id=vehicle_id)
            self.r.reservations.add(dealer, reservation)  # sets its id
        created = {k: v for k, v in vehicle.items() if v is not None}
        self.r.events.record(dealer, events.VEHICLE_CREATED, SEED_ACTOR, vehicle_id,
                             {**created, "seeded": True, "reservations": [x["id"] for x in reservations]},
                             stamp)
        return vehicle_id

    def _seed_data(self, fake: Faker, destination: str, settings: ApiVoSettings) -> dict[str, Any]:
        rnd = fake.random
        entry = rnd.choice(self.reference.entries)
        origin = rnd.choice(self.contract.enum_values("origin"))
        sources = self.contract.enum_values("purchase_source")
        source = sources[0] if rnd.random() < 0.7 else rnd.choice(sources)
        first = fake.date_between(start_date="-12y", end_date="-1y")
        scrap = destination == "CASSE"
        trade_in = float(rnd.randrange(50, 500) if scrap else rnd.randrange(10, 250) * 100)
        sale = (1.0 if settings["uc_price_editable"] else 100.0) if scrap else round(trade_in * 1.25 + 900, 2)
        vehicle: dict[str, Any] = {name: None for name in self.contract.vehicle.fields}
        vehicle.update(
            status=self.contract.entry_status, destination=destination, origin=origin, purchase_source=source,
            vin=entry.vin, registration=entry.registration, first_registration_date=first.isoformat(),
            registration_certificate_date=min(first + timedelta(days=rnd.randrange(0, 2000)),
                                              date.today()).isoformat(),
            mileage=rnd.randrange(5_000, 250_000), trade_in_price=trade_in, sale_price=sale,
            trade_in_by=fake.name() if source == sources[0] else None,
            exterior_color=fake.color_name()[:60],
            vat_recoverable=_purchase_vat(self.contract, origin, rnd))
        vehicle.update(self.reference.match(entry.vin, entry.registration).to_json())
        return vehicle

    def _preparations(self, dealer: str) -> Prepare:
        """How the seed meets a precondition of lifeline.yaml, by its kind, before the step that
        needs it (whether it holds is the engine's `unmet_preconditions`, as for any write)."""
        blocking = dict(self.contract.vehicle.reservations.blocking)

        def present(field: str, vehicle: dict[str, Any], rnd: Any) -> None:
            if field == "police_number":  # the DMS's register numbers the physical entry
                number = self.r.tx.next_number(f"openflex:seed-police:{dealer}")
                vehicle[field] = f"SEED-{date.today().year}-{number:06d}"
                vehicle["frevo_realised"] = float(rnd.randrange(0, 2500))
            elif field in self.contract.vehicle.price_fields:  # invoiced at the sale price
                vehicle[field] = vehicle["sale_price"]

        def prepare(pre: Precondition, vehicle: dict[str, Any], reservations: list[dict[str, Any]],
                    rnd: Any) -> None:
            if pre.present is not None:
                present(pre.present, vehicle, rnd)
            elif pre.reservation is not None and not reservations:
                reservations.append({**blocking, "until": None, "opportunity_id": None,
                                     "comment": "Vente hors Opportunités (données de démonstration)",
                                     "created_at": now(), "created_by": SEED_ACTOR})
            # not_in reads the computed reference match: seeded vehicles are reference vehicles.

        return prepare


def _purchase_vat(contract: Contract, origin: str, rnd: Any) -> bool:
    """Rule R9: the regime the origin fixes, else one the purchase states."""
    fixed = contract.fixed_vat_recoverable(origin)
    return fixed if fixed is not None else rnd.random() < 0.5


def _actor_for(transition: Transition, settings: ApiVoSettings) -> str | None:
    """Who makes this step: an actor always allowed, else one whose capability is on."""
    return next((actor for actor in transition.makers if transition.may_make(actor, settings)), None)
