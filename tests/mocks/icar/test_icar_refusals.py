"""What a misbehaving DMS connector gets back, and what stays behind on the ICAR side.

Every field row of the contract that the DMS may NOT modify by default is written
through `/openflex-writes`: OpenFlex refuses it (R6), the ICAR operation answers 502
UPSTREAM_REFUSED with OpenFlex's problem, and the sync log shows the call with the rule.
"""
from __future__ import annotations

from typing import Any

import pytest
from icarflex.contracts import ApiVoSettings, load_contract
from icarflex.mocks.icar.lifecycle import lifecycle

CONTRACT = load_contract()
LIFE = lifecycle(CONTRACT)
NOT_FOR_DMS = [row.id for row in CONTRACT.rows_of("field")
               if not ApiVoSettings.defaults(CONTRACT).dms_may_modify(row.id)]


def other_value(systems, field: str, current: Any) -> Any:
    """A valid value for `field` (by its type in vehicle.yaml) that differs from the current one."""
    spec = CONTRACT.vehicle.fields[field]
    if spec.type == "enum":
        return next(v for v in CONTRACT.enum_values(field) if v != current)
    if spec.type in ("number", "integer"):
        return (current or 0) + 1_000
    if spec.type == "boolean":
        return not current
    if spec.type == "date":
        return "2019-04-01" if current != "2019-04-01" else "2019-05-01"
    if spec.pattern:  # VIN, registration: another vehicle's, valid by construction
        return systems.reference(50)[field]
    return "Valeur DMS"


def test_the_contract_has_fields_the_dms_may_not_write():
    assert NOT_FOR_DMS  # otherwise the parametrized test below would silently test nothing


@pytest.mark.parametrize("field", NOT_FOR_DMS)
def test_a_forbidden_write_is_refused_by_openflex_and_logged_with_its_rule(systems, field):
    created, record = systems.matched()
    value = other_value(systems, field, created.get(field))
    reply = systems.icar("POST", f"/vehicles/{record['id']}/openflex-writes", {"fields": {field: value}})
    problem = reply.json()
    assert (reply.status_code, problem["code"], problem["fields"]) == (502, "UPSTREAM_REFUSED", [field])
    assert "R6" in problem["rule"]
    assert problem["upstream"]["code"] == "FIELD_NOT_MODIFIABLE"
    entry = systems.sync_log(record_id=record["id"])[-1]
    assert (entry["id"], entry["outcome"], entry["status"], entry["body"]) == \
        (problem["sync_id"], "REFUSED", 403, {field: value})
    assert "R6" in entry["problem"]["rule"] and entry["problem"]["fields"] == [field]
    assert systems.openflex_vehicle(created["id"])[field] == created[field]
    assert systems.icar("GET", f"/vehicles/{record['id']}").json()["status"] == LIFE.arrival


def test_an_allowed_raw_write_goes_through(systems):
    created, record = systems.matched()
    reply = systems.icar("POST", f"/vehicles/{record['id']}/openflex-writes",
                         {"fields": {LIFE.mileage_field: 50_123}})
    assert reply.status_code == 200, reply.text
    assert (reply.json()["sync"]["outcome"], reply.json()["openflex"][LIFE.mileage_field]) == ("OK", 50_123)


def test_physical_entry_without_police_number_is_refused_and_the_record_stays_in_arrival(systems):
    created, record = systems.matched()
    reply = systems.icar("POST", f"/vehicles/{record['id']}/physical-entry",
                         {"mileage": 43_000, "police_number": ""})
    problem = reply.json()
    assert (reply.status_code, problem["code"], problem["upstream"]["code"]) == \
        (502, "UPSTREAM_REFUSED", "POLICE_NUMBER_REQUIRED")
    assert LIFE.police_field in problem["fields"] and "R3" in problem["rule"]
    after = systems.icar("GET", f"/vehicles/{record['id']}").json()
    assert (after["status"], after["police_number"]) == (LIFE.arrival, None)
    assert after["mileage"] == record["mileage"]
    assert systems.openflex_vehicle(created["id"])["status"] == LIFE.openflex_entry
    assert systems.icar("GET", "/police-register").json()["items"] == []


def test_a_refused_entry_burns_its_police_number_and_the_next_entry_takes_the_next_one(systems):
    """Flip one row of the dealer's parameterization: the same entry is refused, then accepted."""
    _, first = systems.matched(0)
    _, second = systems.matched(1)
    flip = {"fields": {LIFE.police_field: {"dms_modifiable": False}}}
    assert systems.openflex("PUT", "/settings/api-vo", flip, key="demo-admin-key").status_code == 200
    refused = systems.icar("POST", f"/vehicles/{first['id']}/physical-entry", {"mileage": 43_000})
    assert (refused.status_code, refused.json()["fields"], refused.json()["rule"]) == \
        (502, [LIFE.police_field], ["R6"])
    flip["fields"][LIFE.police_field]["dms_modifiable"] = True
    assert systems.openflex("PUT", "/settings/api-vo", flip, key="demo-admin-key").status_code == 200
    booked = systems.icar("POST", f"/vehicles/{second['id']}/physical-entry", {"mileage": 43_000})
    assert booked.status_code == 200, booked.text
    register = systems.icar("GET", "/police-register").json()["items"]
    start = register[0]["seq"]  # the register survives resets: numbers are never reused
    assert [(e["seq"], e["state"], e["record_id"]) for e in register] == \
        [(start, "REFUSED", first["id"]), (start + 1, "BOOKED", second["id"])]
    assert booked.json()["police_number"] == register[1]["number"] != register[0]["number"]
    assert systems.icar("GET", f"/vehicles/{first['id']}").json()["status"] == LIFE.arrival


def test_an_invoice_before_delivery_is_refused_by_openflex_and_nothing_is_invoiced(systems):
    created, record = systems.in_stock()
    reply = systems.icar("POST", f"/vehicles/{record['id']}/invoices",
                         {"customer": "Client", "invoiced_sale_price": 9_000.0})
    assert (reply.status_code, reply.json()["upstream"]["code"]) == (502, "TRANSITION_NOT_ALLOWED")
    after = systems.icar("GET", f"/vehicles/{record['id']}").json()
    assert (after["status"], after["invoice"]) == (LIFE.stock, None)
    assert systems.openflex_vehicle(created["id"])["status"] == LIFE.physical_entry


@pytest.mark.parametrize(("body", "field"), [
    ({"mileage": -1}, "mileage"), ({"mileage": "12"}, "mileage"), ({}, "mileage"),
    ({"mileage": 1, "entry_date": "2999-01-01"}, "entry_date"),
    ({"mileage": 1, "entry_date": "0001-01-01"}, "entry_date"),
    ({"mileage": 1, "extra": 1}, "extra")])
def test_bad_physical_entry_input_is_refused_before_any_call(systems, body, field):
    _, record = systems.matched()
    before = len(systems.sync_log())
    reply = systems.icar("POST", f"/vehicles/{record['id']}/physical-entry", body)
    assert (reply.status_code, reply.json()["code"]) == (422, "VALIDATION_ERROR")
    assert field in reply.json()["fields"]
    assert len(systems.sync_log()) == before
