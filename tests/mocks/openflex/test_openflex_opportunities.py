"""Reservations and Opportunités over HTTP: who reserves, the reservation kinds, the trade-in
estimation (rule R1) and the order that reserves a stock vehicle for its opportunity."""
from __future__ import annotations

import pytest
from icarflex.contracts import load_contract
from icarflex.mocks.openflex.service import orderable_statuses
from openflex_support import World

CONTRACT = load_contract()
UNLIMITED = {"kind": "UNLIMITED", "blocks_sale": True, "blocks_publication": True}
ESTIMATE = {"origin": "PARTICULIER", "destination": "MARCHAND", "trade_in_price": 3500,
            "trade_in_by": "Marc Vendeur", "mileage": 160_000}


def test_a_reservation_is_listed_on_the_vehicle(world: World):
    vehicle = world.create_vehicle()
    reservation = world.openflex.post(f"/vehicles/{vehicle['id']}/reservations",
                                      {**UNLIMITED, "comment": "Marchand Dupont"}).ok(201)
    assert reservation["vehicle_id"] == vehicle["id"] and reservation["created_by"] == "openflex_user"
    assert world.vehicle(vehicle["id"])["reservations"] == [reservation]


@pytest.mark.parametrize("actor", ["dms", "mobile_app", "admin"])
def test_only_the_openflex_user_reserves_or_lifts(world: World, actor: str):
    vehicle = world.create_vehicle()
    reservation = world.openflex.post(f"/vehicles/{vehicle['id']}/reservations", UNLIMITED).ok(201)
    caller = world.as_actor(actor)
    caller.post(f"/vehicles/{vehicle['id']}/reservations", UNLIMITED).problem(403, "FORBIDDEN")
    caller.delete(f"/vehicles/{vehicle['id']}/reservations/{reservation['id']}").problem(403, "FORBIDDEN")
    assert world.vehicle(vehicle["id"])["reservations"] == [reservation]


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "DATED", "blocks_sale": True, "blocks_publication": False}, "until"),
    ({**UNLIMITED, "until": "2999-01-01"}, "until"),
    ({"kind": "DATED", "blocks_sale": True, "blocks_publication": True, "until": "2001-01-01"}, "until"),
    ({"kind": "ORDER", "blocks_sale": True, "blocks_publication": True}, "kind"),
    ({"kind": "UNLIMITED", "blocks_sale": 1, "blocks_publication": True}, "blocks_sale"),
    ({"kind": "UNLIMITED", "blocks_publication": True}, "blocks_sale"),
])
def test_a_bad_reservation_is_refused_naming_the_field(world: World, body: dict, field: str):
    vehicle = world.create_vehicle()
    problem = world.openflex.post(f"/vehicles/{vehicle['id']}/reservations", body).problem(422,
                                                                                           "VALIDATION_ERROR")
    assert problem["fields"] == [field]
    assert world.vehicle(vehicle["id"]) == vehicle


def test_a_dated_reservation_in_the_future_is_accepted(world: World):
    vehicle = world.create_vehicle()
    body = {"kind": "DATED", "blocks_sale": True, "blocks_publication": False, "until": "2999-12-31"}
    assert world.openflex.post(f"/vehicles/{vehicle['id']}/reservations",
                               body).ok(201)["until"] == "2999-12-31"


def test_a_vehicle_blocked_for_sale_takes_no_second_blocking_reservation(world: World):
    vehicle = world.create_vehicle()
    world.openflex.post(f"/vehicles/{vehicle['id']}/reservations", UNLIMITED).ok(201)
    problem = world.openflex.post(f"/vehicles/{vehicle['id']}/reservations", UNLIMITED).problem(409,
                                                                                                "CONFLICT")
    assert problem["fields"] == ["reservations"]
    hide = {"kind": "UNLIMITED", "blocks_sale": False, "blocks_publication": True}
    world.openflex.post(f"/vehicles/{vehicle['id']}/reservations", hide).ok(201)


def test_an_exited_vehicle_takes_no_reservation(world: World):
    vehicle = world.vehicle_in("SORTIE", "CASSE")
    world.openflex.post(f"/vehicles/{vehicle['id']}/reservations",
                        {**UNLIMITED, "blocks_sale": False}).problem(409, "CONFLICT")


def test_lifting_an_unknown_reservation_is_404(world: World):
    vehicle = world.create_vehicle()
    world.openflex.delete(f"/vehicles/{vehicle['id']}/reservations/RES-999999").problem(404, "NOT_FOUND")


# -- opportunities ------------------------------------------------------------------------
@pytest.mark.parametrize("actor", ["mobile_app", "openflex_user"])
def test_a_trade_in_estimation_creates_a_reprise_in_pre_rentree(world: World, actor: str):
    caller = world.as_actor(actor)
    opportunity = caller.post("/opportunities", {"customer": {"name": "Jeanne Martin"}}).ok(201)
    ref = world.reference(5)
    answer = caller.post(f"/opportunities/{opportunity['id']}/trade-ins",
                         {**ESTIMATE, "vin": ref["vin"], "registration": ref["registration"]})
    vehicle = answer.ok(201)
    assert answer.headers["Location"] == f"/api/v1/vehicles/{vehicle['id']}"
    assert (vehicle["status"], vehicle["purchase_source"], vehicle["opportunity_id"]) == (
        CONTRACT.entry_status, "REPRISE", opportunity["id"])
    assert (vehicle["trade_in_price"], vehicle["trade_in_by"], vehicle["reconciliation"]) == (
        3500, "Marc Vendeur", "RECONCILED")
    assert world.dms.get(f"/opportunities/{opportunity['id']}").ok()["trade_ins"] == [vehicle["id"]]


def test_a_trade_in_is_a_reprise_and_nothing_else(world: World):
    opportunity = world.mobile.post("/opportunities", {"customer": {"name": "X"}}).ok(201)
    problem = world.mobile.post(f"/opportunities/{opportunity['id']}/trade-ins",
                                {**ESTIMATE, "purchase_source": "ACHAT_DIRECT"}).problem(422,
                                                                                         "VALIDATION_ERROR")
    assert problem["fields"] == ["purchase_source"]
    assert world.openflex.get("/vehicles").ok()["items"] == []


def test_the_dms_makes_no_opportunity_nor_estimation(world: World):
    world.dms.post("/opportunities", {"customer": {"name": "X"}}).problem(403, "FORBIDDEN")
    opportunity = world.openflex.post("/opportunities", {"customer": {"name": "X"}}).ok(201)
    world.dms.post(f"/opportunities/{opportunity['id']}/trade-ins", ESTIMATE).problem(403, "FORBIDDEN")
    world.mobile.post(f"/opportunities/{opportunity['id']}/order",
                      {"vehicle_id": "VEH-000001", "price": 10}).problem(403, "FORBIDDEN")


def test_an_estimation_follows_the_contract_like_any_creation(world: World):
    opportunity = world.mobile.post("/opportunities", {"customer": {"name": "X"}}).ok(201)
    problem = world.mobile.post(f"/opportunities/{opportunity['id']}/trade-ins",
                                {**ESTIMATE, "police_number": "P-1"}).problem(403, "FIELD_NOT_MODIFIABLE")
    assert problem["rule"] == ["R8"]
    problem = world.mobile.post(f"/opportunities/{opportunity['id']}/trade-ins",
                                {"trade_in_price": 10}).problem(422, "VALIDATION_ERROR")
    assert sorted(problem["fields"]) == ["destination", "origin"]


def test_an_unknown_opportunity_is_404(world: World):
    world.openflex.get("/opportunities/OPP-999999").problem(404, "NOT_FOUND")
    world.mobile.post("/opportunities/OPP-999999/trade-ins", ESTIMATE).problem(404, "NOT_FOUND")
    world.openflex.post("/opportunities/OPP-999999/order", {"vehicle_id": "x", "price": 1}).problem(404,
                                                                                                    "NOT_FOUND")


def test_an_order_reserves_the_vehicle_for_the_opportunity(world: World):
    vehicle = world.vehicle_in("STOCK_VENTE", "PARTICULIER")
    opportunity = world.openflex.post("/opportunities", {"customer": {"name": "Acheteur"}}).ok(201)
    ordered = world.openflex.post(f"/opportunities/{opportunity['id']}/order",
                                  {"vehicle_id": vehicle["id"], "price": 15990}).ok(201)
    order = ordered["order"]
    assert (order["vehicle_id"], order["price"]) == (vehicle["id"], 15990)
    reservations = world.vehicle(vehicle["id"])["reservations"]
    assert [(r["id"], r["kind"], r["opportunity_id"], r["blocks_sale"], r["blocks_publication"])
            for r in reservations] == [(order["reservation_id"], "ORDER", opportunity["id"], True, True)]
    assert world.vehicle(vehicle["id"])["published"] is False
    world.openflex.delete(f"/vehicles/{vehicle['id']}/reservations/{order['reservation_id']}").problem(409,
                                                                                                       "CONFLICT")
    world.openflex.post(f"/opportunities/{opportunity['id']}/order",
                        {"vehicle_id": vehicle["id"], "price": 1}).problem(409, "CONFLICT")


def orderable(status: str) -> bool:
    return status in orderable_statuses(CONTRACT)


def test_the_statuses_for_sale_are_physical_entry_and_sales_stock():
    """Decision: a vehicle is for sale where a step leaves it through a sale, and no sale brought it."""
    assert {s for s in CONTRACT.statuses if orderable(s)} == {"ENTREE_PHYSIQUE", "STOCK_VENTE"}


STATUS_PLACES = [(s, next(d for d, line in CONTRACT.lifeline.lifelines.items() if s in line))
                 for s in CONTRACT.statuses]


@pytest.mark.parametrize(("status", "destination"), STATUS_PLACES, ids=[s for s, _ in STATUS_PLACES])
def test_an_order_needs_a_vehicle_for_sale(world: World, status: str, destination: str):
    vehicle = world.vehicle_in(status, destination)
    opportunity = world.openflex.post("/opportunities", {"customer": {"name": "A"}}).ok(201)
    answer = world.openflex.post(f"/opportunities/{opportunity['id']}/order", {"vehicle_id": vehicle["id"],
                                                                               "price": 9})
    if orderable(status):
        assert answer.ok(201)["order"]["vehicle_id"] == vehicle["id"]
    else:
        assert answer.problem(409, "CONFLICT")["fields"] in (["status"], ["reservations"])
        assert world.openflex.get(f"/opportunities/{opportunity['id']}").ok()["order"] is None


def test_an_order_on_a_vehicle_already_reserved_is_a_conflict(world: World):
    vehicle = world.vehicle_in("ENTREE_PHYSIQUE", "MARCHAND")
    world.openflex.post(f"/vehicles/{vehicle['id']}/reservations", UNLIMITED).ok(201)
    opportunity = world.openflex.post("/opportunities", {"customer": {"name": "A"}}).ok(201)
    problem = world.openflex.post(f"/opportunities/{opportunity['id']}/order",
                                  {"vehicle_id": vehicle["id"], "price": 9}).problem(409, "CONFLICT")
    assert problem["fields"] == ["reservations"]


@pytest.mark.parametrize("price", [1, 0.5, 0])
def test_an_order_at_one_euro_or_less_follows_uc_price_editable(world: World, price: float):
    """Rule R7 applies to an order's price (vehicle.yaml order_price_field): flipping the row flips it."""
    vehicle = world.vehicle_in("STOCK_VENTE", "PARTICULIER")
    opportunity = world.openflex.post("/opportunities", {"customer": {"name": "Casse"}}).ok(201)
    order = {"vehicle_id": vehicle["id"], "price": price}
    assert world.flip("uc_price_editable") is False
    problem = world.openflex.post(f"/opportunities/{opportunity['id']}/order", order).problem(422,
                                                                                              "PRICE_NOT_ALLOWED")
    assert (problem["fields"], problem["rule"]) == (["price"], ["R7"])
    assert world.vehicle(vehicle["id"])["reservations"] == []
    assert world.flip("uc_price_editable") is True
    world.openflex.post(f"/opportunities/{opportunity['id']}/order", order).ok(201)
