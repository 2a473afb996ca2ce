"""The change feed GET /events?after=CURSOR: one event per change, in the write's transaction,
never for a refused write, per dealer, polled with a cursor."""
from __future__ import annotations

from openflex_support import World


def types(world: World, after: int = 0) -> list[str]:
    return [e["type"] for e in world.dms.get(f"/events?after={after}").ok()["items"]]


def test_every_kind_of_change_is_one_event_with_its_data(world: World):
    opportunity = world.mobile.post("/opportunities", {"customer": {"name": "C"}}).ok(201)
    ref = world.reference(2)
    vehicle = world.mobile.post(f"/opportunities/{opportunity['id']}/trade-ins", {
        "origin": "PARTICULIER", "destination": "MARCHAND", "vin": ref["vin"]}).ok(201)
    world.openflex.post(f"/opportunities/{opportunity['id']}/trade-ins/{vehicle['id']}/recovery", {}).ok()
    world.dms.patch(f"/vehicles/{vehicle['id']}", {"police_number": "P-1", "status": "ENTREE_PHYSIQUE"}).ok()
    reservation = world.openflex.post(f"/vehicles/{vehicle['id']}/reservations", {
        "kind": "UNLIMITED", "blocks_sale": True, "blocks_publication": True}).ok(201)
    world.openflex.delete(f"/vehicles/{vehicle['id']}/reservations/{reservation['id']}").ok(204)
    feed = world.dms.get("/events").ok()
    assert [e["type"] for e in feed["items"]] == [
        "opportunity.created", "vehicle.created", "vehicle.updated", "vehicle.updated",
        "vehicle.status_changed", "reservation.added", "reservation.removed"]
    created, recovered, updated, moved, added = feed["items"][1:6]
    assert recovered["data"]["changes"] == {"trade_in_state": "RECUPEREE"}
    assert recovered["actor"] == "openflex_user"
    assert (created["vehicle_id"], created["actor"], created["data"]["opportunity_id"]) == (
        vehicle["id"], "mobile_app", opportunity["id"])
    assert updated["data"]["changes"] == {"police_number": "P-1", "status": "ENTREE_PHYSIQUE"}
    assert updated["data"]["before"] == {"police_number": None, "status": "PRE_RENTREE"}
    assert moved["data"] == {"from": "PRE_RENTREE", "to": "ENTREE_PHYSIQUE"} and moved["actor"] == "dms"
    assert added["data"]["id"] == reservation["id"]
    cursors = [e["cursor"] for e in feed["items"]]
    assert cursors == sorted(cursors) and feed["next_cursor"] == cursors[-1]


def test_an_order_is_an_event(world: World):
    vehicle = world.vehicle_in("STOCK_VENTE", "PARTICULIER")
    start = world.dms.get("/events").ok()["next_cursor"]
    opportunity = world.openflex.post("/opportunities", {"customer": {"name": "A"}}).ok(201)
    world.openflex.post(f"/opportunities/{opportunity['id']}/order", {"vehicle_id": vehicle["id"],
                                                                      "price": 9}).ok(201)
    assert types(world, start) == ["opportunity.created", "reservation.added", "opportunity.ordered"]


def test_the_feed_is_polled_with_after_and_limit(world: World):
    for index in range(5):
        world.create_vehicle(index)
    page = world.dms.get("/events?limit=2").ok()
    assert len(page["items"]) == 2
    rest = world.dms.get(f"/events?after={page['next_cursor']}&limit=100").ok()
    assert len(rest["items"]) == 3
    empty = world.dms.get(f"/events?after={rest['next_cursor']}").ok()
    assert empty == {"items": [], "next_cursor": rest["next_cursor"]}


def test_a_refused_write_leaves_no_event(world: World):
    vehicle = world.create_vehicle()
    before = types(world)
    world.dms.patch(f"/vehicles/{vehicle['id']}", {"vin": world.reference(9)["vin"]}).problem(
        403, "FIELD_NOT_MODIFIABLE")
    world.dms.post("/vehicles", {"destination": "CASSE"}).problem(403, "VEHICLE_CREATION_NOT_ALLOWED")
    assert types(world) == before


def test_each_dealer_polls_its_own_feed(world: World):
    world.create_vehicle()
    assert world.as_actor("dms", "demo2").get("/events").ok()["items"] == []
