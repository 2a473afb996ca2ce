"""« Réalisation d'une estimation dans l'application mobile lors d'une reprise puis récupération du
véhicule dans le stock » (guide §1), over HTTP: the estimation's vehicle is ESTIMEE and cannot enter
the stock; an OpenFlex user recovers it once the deal is signed; a lost opportunity withdraws it,
never entered (our reading, docs/decisions.md; vehicle.yaml `trade_in_stages`)."""
from __future__ import annotations

from typing import Any

from openflex_support import World

ENTRY = {"status": "ENTREE_PHYSIQUE", "police_number": "PARIS16-2026-000101"}


def estimated(world: World) -> tuple[str, dict[str, Any]]:
    opportunity = world.openflex.post("/opportunities", {"customer": {"name": "Mme Reprise"}}).ok(201)
    ref = world.reference(7)
    vehicle = world.as_actor("mobile_app").post(f"/opportunities/{opportunity['id']}/trade-ins", {
        "vin": ref["vin"], "registration": ref["registration"], "destination": "PARTICULIER",
        "origin": "PARTICULIER", "mileage": 80_000}).ok(201)
    assert (vehicle["status"], vehicle["trade_in_state"]) == ("PRE_RENTREE", "ESTIMEE")
    return opportunity["id"], vehicle


def test_an_estimation_not_recovered_cannot_enter_naming_the_field(world: World):
    _, vehicle = estimated(world)
    problem = world.dms.patch(f"/vehicles/{vehicle['id']}", ENTRY).problem(409, "TRANSITION_NOT_ALLOWED")
    assert (problem["fields"], problem["rule"]) == (["trade_in_state"], ["R1"])
    assert world.vehicle(vehicle["id"])["status"] == "PRE_RENTREE"


def test_the_recovered_trade_in_enters_the_stock(world: World):
    opportunity_id, vehicle = estimated(world)
    recovered = world.openflex.post(f"/opportunities/{opportunity_id}/trade-ins/{vehicle['id']}/recovery",
                                    {}).ok()
    assert recovered["trade_in_state"] == "RECUPEREE"
    assert world.dms.patch(f"/vehicles/{vehicle['id']}", ENTRY).ok()["status"] == "ENTREE_PHYSIQUE"
    world.openflex.post(f"/opportunities/{opportunity_id}/trade-ins/{vehicle['id']}/recovery", {}).problem(
        409, "CONFLICT")  # once


def test_a_lost_opportunity_withdraws_its_trade_in_for_good(world: World):
    opportunity_id, vehicle = estimated(world)
    lost = world.openflex.post(f"/opportunities/{opportunity_id}/loss", {}).ok()
    assert lost["lost_at"] is not None
    assert world.vehicle(vehicle["id"])["trade_in_state"] == "RETIREE"
    world.dms.patch(f"/vehicles/{vehicle['id']}", ENTRY).problem(409, "TRANSITION_NOT_ALLOWED")
    world.openflex.post(f"/opportunities/{opportunity_id}/trade-ins/{vehicle['id']}/recovery", {}).problem(
        409, "CONFLICT")
    world.openflex.post(f"/opportunities/{opportunity_id}/loss", {}).problem(409, "CONFLICT")


def test_no_actor_writes_the_stage_directly(world: World):
    _, vehicle = estimated(world)
    for caller in (world.openflex, world.dms, world.as_actor("mobile_app")):
        problem = caller.patch(f"/vehicles/{vehicle['id']}", {"trade_in_state": "RECUPEREE"}).problem(
            403, "FIELD_NOT_MODIFIABLE")
        assert problem["fields"] == ["trade_in_state"]


def test_only_an_openflex_user_recovers_or_loses(world: World):
    opportunity_id, vehicle = estimated(world)
    for actor in ("mobile_app", "dms"):
        caller = world.as_actor(actor)
        recovery = f"/opportunities/{opportunity_id}/trade-ins/{vehicle['id']}/recovery"
        assert caller.post(recovery, {}).status == 403
        assert caller.post(f"/opportunities/{opportunity_id}/loss", {}).status == 403
