"""Auth and isolation over HTTP: 401 without a known key on every operation, 403 for an actor
the operation is not for, and one dealer never sees another's vehicles (404 for a foreign id)."""
from __future__ import annotations

import re

import pytest
from icarflex.contracts import load_contract
from icarflex.mocks.openflex.routes import build_api
from openflex_support import World

OPERATIONS = build_api(load_contract()).operations
ACTORS = ("mobile_app", "openflex_user", "dms", "admin")


def url(path: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", "X-1", path)


@pytest.mark.parametrize("key", [None, "wrong-key", "demo-openflex-key-typo"], ids=["none", "unknown",
                                                                                    "typo"])
@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_every_operation_needs_a_known_key(world: World, op, key):
    answer = world.as_key(key)(op.method, url(op.path), json={} if op.body else None)
    problem = answer.problem(401, "UNAUTHENTICATED")
    assert problem["fields"] == ["Authorization"] and answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_basic_scheme_is_not_a_bearer_key(world: World):
    world.as_key(None).get("/vehicles", headers={"Authorization": "Basic demo-openflex-key"}).problem(
        401, "UNAUTHENTICATED")


FORBIDDEN = [(op, actor) for op in OPERATIONS if op.actors for actor in ACTORS if actor not in op.actors]


@pytest.mark.parametrize(("op", "actor"), FORBIDDEN, ids=[f"{o.operation_id}-{a}" for o, a in FORBIDDEN])
def test_an_operation_refuses_the_actors_it_is_not_for(world: World, op, actor):
    before = world.snapshot()
    world.as_actor(actor)(op.method, url(op.path), json={} if op.body else None).problem(403, "FORBIDDEN")
    assert world.snapshot() == before


def test_a_dealer_never_sees_another_dealers_vehicle(world: World):
    vehicle = world.create_vehicle()
    reservation = world.openflex.post(f"/vehicles/{vehicle['id']}/reservations", {
        "kind": "UNLIMITED", "blocks_sale": False, "blocks_publication": True}).ok(201)
    opportunity = world.openflex.post("/opportunities", {"customer": {"name": "A"}}).ok(201)
    other = world.as_actor("openflex_user", "demo2")
    other_dms = world.as_actor("dms", "demo2")
    other.get(f"/vehicles/{vehicle['id']}").problem(404, "NOT_FOUND")
    other_dms.patch(f"/vehicles/{vehicle['id']}", {"mileage": 1}).problem(404, "NOT_FOUND")
    other.post(f"/vehicles/{vehicle['id']}/reservations", {
        "kind": "UNLIMITED", "blocks_sale": True, "blocks_publication": True}).problem(404, "NOT_FOUND")
    other.delete(f"/vehicles/{vehicle['id']}/reservations/{reservation['id']}").problem(404, "NOT_FOUND")
    other.get(f"/opportunities/{opportunity['id']}").problem(404, "NOT_FOUND")
    other_opportunity = other.post("/opportunities", {"customer": {"name": "B"}}).ok(201)
    other.post(f"/opportunities/{other_opportunity['id']}/order",
               {"vehicle_id": vehicle["id"], "price": 5}).problem(409, "CONFLICT")  # a body's reference
    assert other.get("/vehicles").ok()["items"] == []
    assert other.get(f"/vehicles?vin={vehicle['vin']}").ok()["items"] == []
    assert world.vehicle(vehicle["id"])["reservations"] == [reservation]


def test_the_openapi_document_needs_no_key(world: World):
    assert world.as_key(None).get("/openapi.json").ok()["openapi"].startswith("3.1")
