"""Match → physical entry → FREVO → invoice, through real HTTP with both fakes live.

After every step both systems must agree through the contract's mapping (R3): the
DMS record's status is `icar_status_for(OpenFlex status)`. The OpenFlex moves between
the physical entry and the exit are the contract's lifeline for the destination.
"""
from __future__ import annotations

import pytest
from icar_support import problem
from icarflex.contracts import load_contract
from icarflex.mocks.icar.lifecycle import lifecycle

CONTRACT = load_contract()
LIFE = lifecycle(CONTRACT)


def assert_in_step(systems, record_id: str, openflex_id: str, openflex_status: str) -> dict:
    vehicle = systems.openflex_vehicle(openflex_id)
    record = systems.icar("GET", f"/vehicles/{record_id}").json()
    assert vehicle["status"] == openflex_status
    assert record["status"] == CONTRACT.icar_status_for(vehicle["status"])
    return record


def move_as_openflex_user(systems, openflex_id: str, target: str) -> None:
    vehicle = systems.openflex_vehicle(openflex_id)
    transition = CONTRACT.transition(vehicle["status"], target, vehicle["destination"])
    assert transition is not None and "openflex_user" in transition.actors
    if "sale_channel" in transition.requires and not vehicle["reservations"]:
        # R5: sold outside Opportunités, under the unlimited reservation blocking sale and publication.
        reply = systems.openflex("POST", f"/vehicles/{openflex_id}/reservations",
                                 dict(CONTRACT.vehicle.reservations.blocking))
        assert reply.status_code == 201, reply.text
    reply = systems.openflex("PATCH", f"/vehicles/{openflex_id}", {"status": target})
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("destination", list(CONTRACT.lifeline.lifelines))
def test_match_entry_frevo_invoice_keep_both_systems_in_mapped_statuses(systems, destination):
    line = CONTRACT.lifeline.lifelines[destination]
    created, record = systems.matched(destination=destination)
    assert_in_step(systems, record["id"], created["id"], LIFE.openflex_entry)

    entry = systems.icar("POST", f"/vehicles/{record['id']}/physical-entry", {"mileage": 43_000})
    assert entry.status_code == 200, entry.text
    record = assert_in_step(systems, record["id"], created["id"], LIFE.physical_entry)
    vehicle = systems.openflex_vehicle(created["id"])
    assert (vehicle["police_number"], vehicle["mileage"]) == (record["police_number"], 43_000)

    for label, amount in (("Pneumatiques", 320.5), ("Carrosserie", 180.0)):
        assert systems.icar("POST", f"/vehicles/{record['id']}/frevo",
                            {"label": label, "amount": amount}).status_code == 201
    record = assert_in_step(systems, record["id"], created["id"], LIFE.physical_entry)
    assert record["frevo_total"] == systems.openflex_vehicle(created["id"])["frevo_realised"] == 500.5

    for status in line[line.index(LIFE.physical_entry) + 1:line.index(LIFE.exit)]:
        move_as_openflex_user(systems, created["id"], status)
        assert_in_step(systems, record["id"], created["id"], status)

    invoice = systems.icar("POST", f"/vehicles/{record['id']}/invoices",
                           {"customer": "Client final", "invoiced_sale_price": 9_900.0})
    assert invoice.status_code == 201, invoice.text
    record = assert_in_step(systems, record["id"], created["id"], LIFE.exit)
    assert systems.openflex_vehicle(created["id"])["invoiced_sale_price"] == \
        record["invoice"]["invoiced_sale_price"] == 9_900.0


@pytest.mark.parametrize(("purchase", "recoverable", "regime", "source"), [
    ({"origin": "PARTICULIER"}, False, "MARGE", "ORIGIN"),
    ({"origin": "PROFESSIONNEL", "vat_recoverable": True}, True, "NORMAL", "PURCHASE"),
    ({"origin": "PROFESSIONNEL", "vat_recoverable": False}, False, "MARGE", "PURCHASE")])
def test_invoice_vat_follows_the_purchase_not_the_origin(systems, purchase, recoverable, regime, source):
    """Rule R9: a professional's car states its regime at the purchase (margin scheme or normal)."""
    created, record = invoiced(systems, **purchase)
    assert (record["invoice"]["vat_regime"], record["invoice"]["vat_source"]) == (regime, source)
    assert record["vat_recoverable"] is recoverable
    assert systems.openflex_vehicle(created["id"])["vat_recoverable"] is recoverable


def test_invoice_vat_can_be_overridden_in_the_request_for_a_professionals_car(systems):
    created, record = invoiced(systems, origin="PROFESSIONNEL", vat_recoverable=False,
                               invoice_vat=True)
    assert (record["invoice"]["vat_regime"], record["invoice"]["vat_source"]) == ("NORMAL", "REQUEST")
    assert systems.openflex_vehicle(created["id"])["vat_recoverable"] is True


def test_recovering_vat_on_a_private_sellers_car_is_refused_by_rule_r9(systems):
    created, record = systems.in_stock(destination="MARCHAND", origin="PARTICULIER")
    move_as_openflex_user(systems, created["id"], "LIVRAISON")
    reply = systems.icar("POST", f"/vehicles/{record['id']}/invoices",
                         {"customer": "Garage du Centre", "invoiced_sale_price": 2_500.0,
                          "vat_recoverable": True})
    assert reply.status_code == 502, reply.text
    problem = reply.json()["upstream"]
    assert (problem["code"], problem["rule"], problem["fields"]) == ("VALIDATION_ERROR", ["R9"],
                                                                     ["vat_recoverable"])
    vehicle = systems.openflex_vehicle(created["id"])
    assert (vehicle["status"], vehicle["vat_recoverable"]) == ("LIVRAISON", None)


def invoiced(systems, invoice_vat: bool | None = None, **purchase):
    created, record = systems.in_stock(destination="MARCHAND", **purchase)
    move_as_openflex_user(systems, created["id"], "LIVRAISON")
    extra = {} if invoice_vat is None else {"vat_recoverable": invoice_vat}
    reply = systems.icar("POST", f"/vehicles/{record['id']}/invoices",
                         {"customer": "Garage du Centre", "invoiced_sale_price": 2_500.0, **extra})
    assert reply.status_code == 201, reply.text
    return created, reply.json()


def test_dms_owned_updates_are_pushed_to_openflex(systems):
    created, record = systems.in_stock(origin="PROFESSIONNEL", vat_recoverable=False)
    reply = systems.icar("PATCH", f"/vehicles/{record['id']}", {"mileage": 45_500, "vat_recoverable": True})
    assert reply.status_code == 200, reply.text
    vehicle = systems.openflex_vehicle(created["id"])
    assert (vehicle["mileage"], vehicle["vat_recoverable"]) == (45_500, True)
    assert (reply.json()["mileage"], reply.json()["vat_recoverable"]) == (45_500, True)


@pytest.mark.parametrize("key", ["openflex_id", "vin", "registration"])
def test_a_vehicle_is_matched_by_openflex_id_vin_or_registration(systems, key):
    created = systems.vehicle()
    reply = systems.icar("POST", "/vehicles/match", {key: created[key if key != "openflex_id" else "id"]})
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert (body["openflex_id"], body["status"], body["vin"]) == (created["id"], LIFE.arrival, created["vin"])
    assert reply.headers["Location"].endswith(f"/vehicles/{body['id']}")


def test_matching_twice_is_a_conflict(systems):
    created, _ = systems.matched()
    reply = systems.icar("POST", "/vehicles/match", {"vin": created["vin"]})
    assert problem(reply) == (409, "CONFLICT", ["openflex_id"])
    assert len(systems.icar("GET", "/vehicles").json()["items"]) == 1


def test_a_vehicle_unknown_to_openflex_is_a_conflict_not_a_missing_url(systems):
    reply = systems.icar("POST", "/vehicles/match", {"openflex_id": "VEH-999999"})
    assert problem(reply) == (409, "CONFLICT", ["openflex_id"])
    assert systems.sync_log()[-1]["status"] == 404


def test_a_vehicle_past_its_entry_status_is_not_matched(systems):
    created = systems.vehicle()
    entry = {"status": LIFE.physical_entry, LIFE.police_field: "EXT-1", LIFE.mileage_field: 1}
    moved = systems.openflex("PATCH", f"/vehicles/{created['id']}", entry, key="demo-dms-key")
    assert moved.status_code == 200, moved.text
    reply = systems.icar("POST", "/vehicles/match", {"openflex_id": created["id"]})
    assert (reply.status_code, reply.json()["fields"]) == (409, ["status"])


def test_frevo_on_a_vehicle_not_in_stock_is_refused_before_any_call(systems):
    _, record = systems.matched()
    before = len(systems.sync_log())
    reply = systems.icar("POST", f"/vehicles/{record['id']}/frevo", {"label": "Pneus", "amount": 100.0})
    assert (reply.status_code, reply.json()["code"], reply.json()["fields"]) == (409, "CONFLICT", ["status"])
    assert len(systems.sync_log()) == before


def test_records_are_isolated_per_dealer(systems):
    _, record = systems.matched()
    reply = systems.icar("GET", f"/vehicles/{record['id']}", key="demo2-icar-key")
    assert (reply.status_code, reply.json()["code"]) == (404, "NOT_FOUND")


def test_admin_seed_takes_in_openflex_vehicles_not_yet_matched(systems):
    _, record = systems.matched(0)
    for index in (1, 2, 3):
        systems.vehicle(index)
    reply = systems.session.post(systems.icar_url + "/__admin/seed", json={"dealer": "demo", "count": 2},
                                 headers={"Authorization": "Bearer demo-admin-key"})
    assert reply.status_code == 201, reply.text
    assert reply.json()["created"] == 2
    records = systems.icar("GET", "/vehicles").json()["items"]
    assert len(records) == 3 and len({r["openflex_id"] for r in records}) == 3
    assert {r["status"] for r in records} == {LIFE.arrival}
