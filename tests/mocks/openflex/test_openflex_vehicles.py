"""Vehicles over HTTP: creation (rule R1), list filters and pagination, get, JSON merge patch,
ETag / If-Match, and the rules a creation or write by an OpenFlex actor meets (R2, R8)."""
from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from icarflex.contracts import load_contract
from openflex_support import CREATION, World

CONTRACT = load_contract()
ENTRY = CONTRACT.entry_status


@pytest.mark.parametrize("actor", ["openflex_user", "mobile_app"])
def test_create_a_vehicle_enters_in_pre_rentree_with_location_and_etag(world: World, actor: str):
    ref = world.reference(3)
    answer = world.as_actor(actor).post("/vehicles", {**CREATION, "vin": ref["vin"], "mileage": 12000})
    vehicle = answer.ok(201)
    assert vehicle["status"] == ENTRY and vehicle["dealer"] == "demo" and vehicle["mileage"] == 12000
    assert answer.headers["Location"] == f"/api/v1/vehicles/{vehicle['id']}"
    assert answer.headers["ETag"] == f'"{vehicle["version_tag"]}"'
    assert set(CONTRACT.vehicle.fields) <= set(vehicle)
    assert (vehicle["make"], vehicle["model"], vehicle["reconciliation"]) == (ref["make"], ref["model"],
                                                                              "RECONCILED")
    assert world.vehicle(vehicle["id"]) == vehicle


def test_a_creation_missing_required_fields_names_them_under_rule_r1(world: World):
    problem = world.openflex.post("/vehicles", {"vin": world.reference(0)["vin"]}).problem(422,
                                                                                           "VALIDATION_ERROR")
    assert sorted(problem["fields"]) == sorted(CONTRACT.vehicle.required_at_creation)
    assert problem["rule"] == ["R1"]


@pytest.mark.parametrize("status", [s for s in CONTRACT.statuses if s != ENTRY])
def test_a_vehicle_is_never_created_past_the_entry_status(world: World, status: str):
    problem = world.openflex.post("/vehicles", {**CREATION, "status": status}).problem(409,
                                                                                       "TRANSITION_NOT_ALLOWED")
    assert problem["fields"] == ["status"] and problem["rule"] == ["R1"]
    assert world.openflex.get("/vehicles").ok()["items"] == []


READ_ONLY = [f for f, spec in CONTRACT.vehicle.fields.items() if spec.read_only]


@pytest.mark.parametrize("field_id", READ_ONLY)
def test_no_actor_writes_a_field_openflex_computes(world: World, field_id: str):
    vehicle = world.create_vehicle()
    value = not vehicle[field_id] if CONTRACT.vehicle.fields[field_id].type == "boolean" else \
        next(v for v in CONTRACT.enum_values(field_id) if v != vehicle[field_id]) \
        if CONTRACT.vehicle.fields[field_id].type == "enum" else "Autre"
    for caller in (world.openflex, world.dms, world.mobile):
        problem = caller.patch(f"/vehicles/{vehicle['id']}", {field_id: value}).problem(403,
                                                                                        "FIELD_NOT_MODIFIABLE")
        assert (problem["fields"], problem["rule"]) == ([field_id], ["R2"])


ICAR_FIELDS = [r.id for r in CONTRACT.rows_of("field") if r.entered_in == "ICAR"]


@pytest.mark.parametrize("field_id", ICAR_FIELDS)
def test_openflex_actors_do_not_write_what_is_entered_in_icar(world: World, field_id: str):
    vehicle = world.create_vehicle()
    value = "PARIS16-2025-000009" if CONTRACT.vehicle.fields[field_id].type == "string" else 100.0
    for caller in (world.openflex, world.mobile):
        problem = caller.patch(f"/vehicles/{vehicle['id']}", {field_id: value}).problem(403,
                                                                                        "FIELD_NOT_MODIFIABLE")
        assert (problem["fields"], problem["rule"]) == ([field_id], ["R8"])
    assert world.dms.patch(f"/vehicles/{vehicle['id']}", {field_id: value}).ok()[field_id] == value


def test_merge_patch_sets_and_null_unsets_fields(world: World):
    vehicle = world.create_vehicle(exterior_color="Bleu", mileage=1000)
    after = world.openflex.patch(f"/vehicles/{vehicle['id']}", {"exterior_color": None, "mileage": 2000},
                                 headers={"Content-Type": "application/merge-patch+json"}).ok()
    assert (after["exterior_color"], after["mileage"], after["sale_price"]) == (None, 2000,
                                                                                vehicle["sale_price"])


@pytest.mark.parametrize("field_id", CONTRACT.vehicle.required_at_creation + ("status",))
def test_a_patch_cannot_unset_a_required_field_or_the_status(world: World, field_id: str):
    vehicle = world.create_vehicle()
    problem = world.openflex.patch(f"/vehicles/{vehicle['id']}", {field_id: None}).problem(422,
                                                                                           "VALIDATION_ERROR")
    assert problem["fields"] == [field_id]
    assert world.vehicle(vehicle["id"]) == vehicle


def test_changing_vin_or_registration_reruns_the_reference_match(world: World):
    vehicle = world.create_vehicle(0)
    other = world.reference(1)
    after = world.openflex.patch(f"/vehicles/{vehicle['id']}", {"registration": other["registration"]}).ok()
    assert after["reconciliation"] == "TO_CHECK"
    after = world.openflex.patch(f"/vehicles/{vehicle['id']}", {"vin": other["vin"]}).ok()
    assert (after["reconciliation"], after["make"], after["model"], after["version"]) == (
        "RECONCILED", other["make"], other["model"], other["version"])


# -- ETag / If-Match ---------------------------------------------------------------------
def test_a_stale_if_match_gets_412_and_changes_nothing(world: World):
    vehicle = world.create_vehicle()
    old_tag = world.openflex.get(f"/vehicles/{vehicle['id']}").headers["ETag"]
    fresh = world.openflex.patch(f"/vehicles/{vehicle['id']}", {"mileage": 5000},
                                 headers={"If-Match": old_tag})
    assert fresh.ok()["mileage"] == 5000 and fresh.headers["ETag"] != old_tag
    before, events = world.vehicle(vehicle["id"]), world.openflex.get("/events").ok()
    problem = world.dms.patch(f"/vehicles/{vehicle['id']}", {"mileage": 6000},
                              headers={"If-Match": old_tag}).problem(412, "PRECONDITION_FAILED")
    assert problem["fields"] == ["If-Match"]
    assert world.vehicle(vehicle["id"]) == before and world.openflex.get("/events").ok() == events


@pytest.mark.parametrize("header", ["*", "current", "current-unquoted", "list"])
def test_a_matching_if_match_is_honoured(world: World, header: str):
    vehicle = world.create_vehicle()
    tag = world.openflex.get(f"/vehicles/{vehicle['id']}").headers["ETag"]
    value = {"*": "*", "current": tag, "current-unquoted": tag.strip('"'), "list": f'"nope", {tag}'}[header]
    assert world.dms.patch(f"/vehicles/{vehicle['id']}", {"mileage": 7},
                           headers={"If-Match": value}).ok()["mileage"] == 7


def test_a_weak_etag_never_matches_if_match(world: World):
    vehicle = world.create_vehicle()
    tag = world.openflex.get(f"/vehicles/{vehicle['id']}").headers["ETag"]
    world.dms.patch(f"/vehicles/{vehicle['id']}", {"mileage": 7}, headers={"If-Match": f"W/{tag}"}).problem(
        412, "PRECONDITION_FAILED")


def test_a_write_that_changes_nothing_keeps_the_etag(world: World):
    vehicle = world.create_vehicle(mileage=10)
    answer = world.dms.patch(f"/vehicles/{vehicle['id']}", {"mileage": 10})
    assert answer.ok() == vehicle and answer.headers["ETag"] == f'"{vehicle["version_tag"]}"'


def test_a_reservation_changes_the_etag(world: World):
    vehicle = world.create_vehicle()
    world.openflex.post(f"/vehicles/{vehicle['id']}/reservations",
                        {"kind": "UNLIMITED", "blocks_sale": True, "blocks_publication": True}).ok(201)
    assert world.vehicle(vehicle["id"])["version_tag"] != vehicle["version_tag"]


# -- list -------------------------------------------------------------------------------
def test_list_filters_by_each_indexed_field(world: World):
    first = world.create_vehicle(0)
    second = world.create_vehicle(1)
    world.dms.patch(f"/vehicles/{second['id']}", {"police_number": "PARIS16-2025-000001",
                                                   "status": "ENTREE_PHYSIQUE"}).ok()

    def ids(query: str) -> list[str]:
        return [v["id"] for v in world.dms.get(f"/vehicles?{query}").ok()["items"]]

    assert ids("") == [first["id"], second["id"]]
    assert ids(f"status={ENTRY}") == [first["id"]]
    assert ids(f"vin={first['vin']}") == [first["id"]]
    assert ids(f"registration={second['registration']}") == [second["id"]]
    assert ids("police_number=PARIS16-2025-000001") == [second["id"]]
    assert ids("status=SORTIE") == []


def test_list_filters_by_updated_since(world: World):
    first = world.create_vehicle(0)
    time.sleep(0.01)
    stamp = world.vehicle(first["id"])["updated_at"]
    time.sleep(0.01)
    second = world.create_vehicle(1)

    def since(moment: str) -> list[str]:
        return [v["id"] for v in world.openflex.get(f"/vehicles?updated_since={quote(moment)}").ok()["items"]]

    assert since(stamp) == [first["id"], second["id"]]
    assert since(second["updated_at"]) == [second["id"]]
    world.openflex.patch(f"/vehicles/{first['id']}", {"mileage": 1}).ok()
    assert set(since(second["updated_at"])) == {first["id"], second["id"]}


def test_list_paginates_with_limit_and_cursor(world: World):
    world.admin.post("/__admin/seed", {"dealer": "demo", "count": 7, "seed": 3}).ok(201)
    seen, cursor = [], None
    while True:
        page = world.openflex.get("/vehicles?limit=3" + (f"&cursor={cursor}" if cursor else "")).ok()
        assert len(page["items"]) <= 3
        seen += [v["id"] for v in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    everything = world.openflex.get("/vehicles?limit=500").ok()["items"]
    assert seen == [v["id"] for v in everything] and len(seen) == 7


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "cursor=abc", "status=VENDU",
                                   "updated_since=hier"])
def test_a_bad_list_query_is_refused_naming_the_parameter(world: World, query: str):
    problem = world.openflex.get(f"/vehicles?{query}").problem(422, "VALIDATION_ERROR")
    assert problem["fields"] == [query.split("=")[0]]


def test_an_unknown_vehicle_is_404(world: World):
    world.openflex.get("/vehicles/VEH-999999").problem(404, "NOT_FOUND")
    world.dms.patch("/vehicles/VEH-999999", {"mileage": 1}).problem(404, "NOT_FOUND")


def test_a_misspelt_list_filter_is_refused_not_ignored(world):
    problem = world.openflex.get("/vehicles?stauts=SORTIE").problem(422, "VALIDATION_ERROR")
    assert problem["fields"] == ["stauts"]
