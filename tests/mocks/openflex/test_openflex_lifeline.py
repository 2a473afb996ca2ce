"""Status moves over HTTP: every transition of lifeline.yaml by every actor, every move off the
lifeline, every precondition, and the reservation rule R5 — all parametrized from the contract."""
from __future__ import annotations

import pytest
from icarflex.contracts import ApiVoSettings, is_blocking_reservation, load_contract
from icarflex.contracts.models import Transition
from icarflex.mocks.openflex.routes import vehicle_writers
from openflex_support import World

CONTRACT = load_contract()
DEFAULTS = ApiVoSettings.defaults(CONTRACT)
MOVES = [t for t in CONTRACT.lifeline.transitions if t.from_ is not None]


def destination_for(t: Transition) -> str:
    """A destination whose lifeline reaches the transition's source and where the step applies."""
    return next(d for d, line in CONTRACT.lifeline.lifelines.items()
                if t.from_ in line and (t.destinations is None or d in t.destinations))


def may_make(transition: Transition, actor: str, settings: ApiVoSettings = DEFAULTS) -> bool:
    return transition.may_make(actor, settings)


def move_id(t: Transition) -> str:
    return f"{t.from_}->{t.to}"


@pytest.mark.parametrize("actor", CONTRACT.actors)
@pytest.mark.parametrize("transition", MOVES, ids=move_id)
def test_each_status_move_is_made_only_by_its_actors(world: World, transition: Transition, actor: str):
    vehicle = world.vehicle_in(transition.from_, destination_for(transition))
    for name in transition.requires:
        world.satisfy(name, vehicle["id"])
    answer = world.as_actor(actor).patch(f"/vehicles/{vehicle['id']}", {"status": transition.to})
    if may_make(transition, actor):
        assert answer.ok()["status"] == transition.to
    elif actor not in vehicle_writers(CONTRACT):
        answer.problem(403, "FORBIDDEN")
    else:
        problem = answer.problem(409, "TRANSITION_NOT_ALLOWED")
        assert problem["fields"] == ["status"] and set(problem["rule"]) <= set(transition.rules)
    if answer.status != 200:
        assert world.vehicle(vehicle["id"])["status"] == transition.from_


def test_the_guide_gives_physical_entry_and_exit_to_the_dms_only():
    """Guide §1: Entrée Physique is done in ICAR; the exit is done via ICAR at invoicing."""
    into = {t.to: t for t in MOVES}
    for status in ("ENTREE_PHYSIQUE", "SORTIE"):
        assert [a for a in CONTRACT.actors if may_make(into[status], a)] == ["dms"]


OFF_LIFELINE = [(d, a, b) for d, line in CONTRACT.lifeline.lifelines.items() for a in line
                for b in CONTRACT.statuses if b != a and CONTRACT.transition(a, b, d) is None]


@pytest.mark.parametrize(("destination", "source", "target"), OFF_LIFELINE,
                         ids=[f"{d}:{a}->{b}" for d, a, b in OFF_LIFELINE])
def test_a_move_off_the_destinations_lifeline_is_refused(world: World, destination: str, source: str,
                                                         target: str):
    vehicle = world.vehicle_in(source, destination)
    for caller in (world.openflex, world.dms):
        problem = caller.patch(f"/vehicles/{vehicle['id']}", {"status": target}).problem(
            409, "TRANSITION_NOT_ALLOWED")
        assert problem["fields"] == ["status"] and problem["rule"] == ["R4"]
    assert world.vehicle(vehicle["id"])["status"] == source


PRECONDITIONS = [(t, name) for t in MOVES for name in t.requires]


@pytest.mark.parametrize(("transition", "precondition"), PRECONDITIONS,
                         ids=[f"{move_id(t)}:{n}" for t, n in PRECONDITIONS])
def test_a_move_without_its_precondition_is_refused_naming_it(world: World, transition: Transition,
                                                              precondition: str):
    vehicle = world.vehicle_in(transition.from_, destination_for(transition))
    for name in transition.requires:
        world.satisfy(name, vehicle["id"])
    world.unsatisfy(precondition, vehicle["id"])
    actor = world.mover(transition)
    pre = CONTRACT.lifeline.preconditions[precondition]
    answer = world.as_actor(actor).patch(f"/vehicles/{vehicle['id']}", {"status": transition.to})
    problem = answer.problem(CONTRACT.codes[pre.code].status, pre.code)
    assert pre.field in problem["fields"] and pre.rule in problem["rule"]
    assert world.vehicle(vehicle["id"])["status"] == transition.from_


def test_physical_entry_without_police_number_names_rule_r3(world: World):
    vehicle = world.create_vehicle()
    problem = world.dms.patch(f"/vehicles/{vehicle['id']}", {"status": "ENTREE_PHYSIQUE"}).problem(
        422, "POLICE_NUMBER_REQUIRED")
    assert (problem["fields"], problem["rule"]) == (["police_number"], ["R3"])


def test_physical_entry_with_police_number_in_the_same_write(world: World):
    vehicle = world.create_vehicle()
    body = {"status": "ENTREE_PHYSIQUE", "police_number": "PARIS16-2025-000001", "mileage": 42000}
    after = world.dms.patch(f"/vehicles/{vehicle['id']}", body).ok()
    assert (after["status"], after["police_number"], after["mileage"]) == ("ENTREE_PHYSIQUE",
                                                                          "PARIS16-2025-000001", 42000)


RESERVATIONS = [
    {"kind": "UNLIMITED", "blocks_sale": True, "blocks_publication": True},
    {"kind": "UNLIMITED", "blocks_sale": True, "blocks_publication": False},
    {"kind": "UNLIMITED", "blocks_sale": False, "blocks_publication": True},
    {"kind": "UNLIMITED", "blocks_sale": False, "blocks_publication": False},
    {"kind": "DATED", "blocks_sale": True, "blocks_publication": True, "until": "2999-12-31"},
]


@pytest.mark.parametrize("reservation", RESERVATIONS, ids=lambda r: "-".join(str(v) for v in r.values()))
def test_delivery_outside_opportunities_needs_the_unlimited_blocking_reservation(world: World,
                                                                                 reservation: dict):
    """Rule R5, for the marchand lifeline (ENTREE_PHYSIQUE -> LIVRAISON)."""
    vehicle = world.vehicle_in("ENTREE_PHYSIQUE", "MARCHAND")
    world.openflex.post(f"/vehicles/{vehicle['id']}/reservations", reservation).ok(201)
    answer = world.openflex.patch(f"/vehicles/{vehicle['id']}", {"status": "LIVRAISON"})
    if is_blocking_reservation(CONTRACT, reservation):
        assert answer.ok()["status"] == "LIVRAISON"
    else:
        problem = answer.problem(409, "RESERVATION_REQUIRED")
        assert (problem["fields"], problem["rule"]) == (["reservations"], ["R5"])


def test_an_opportunity_order_is_a_sale_channel(world: World):
    vehicle = world.vehicle_in("STOCK_VENTE", "PARTICULIER")
    opportunity = world.openflex.post("/opportunities", {"customer": {"name": "Client"}}).ok(201)
    world.openflex.post(f"/opportunities/{opportunity['id']}/order",
                        {"vehicle_id": vehicle["id"], "price": 15900}).ok(201)
    assert world.openflex.patch(f"/vehicles/{vehicle['id']}",
                                {"status": "LIVRAISON"}).ok()["status"] == "LIVRAISON"
    world.satisfy("invoiced_sale_price", vehicle["id"])
    assert world.dms.patch(f"/vehicles/{vehicle['id']}", {"status": "SORTIE"}).ok()["status"] == "SORTIE"


def test_published_follows_status_and_reservations(world: World):
    vehicle = world.vehicle_in("STOCK_VENTE", "PARTICULIER")
    assert vehicle["published"] == CONTRACT.statuses["STOCK_VENTE"].published is True
    hidden = {"kind": "UNLIMITED", "blocks_sale": False, "blocks_publication": True}
    reservation = world.openflex.post(f"/vehicles/{vehicle['id']}/reservations", hidden).ok(201)
    assert world.vehicle(vehicle["id"])["published"] is False
    world.openflex.delete(f"/vehicles/{vehicle['id']}/reservations/{reservation['id']}").ok(204)
    assert world.vehicle(vehicle["id"])["published"] is True
