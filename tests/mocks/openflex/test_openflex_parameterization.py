"""The API VO parameterization over HTTP: every row of parameterization.yaml, the DMS allowed or
refused as the row says, and flipping the row with PUT /settings/api-vo flips the outcome."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from icarflex.contracts import ApiVoSettings, load_contract
from icarflex.contracts.models import ParameterRow
from icarflex.contracts.profile import MASTER_SETTING, PRICE_SETTING
from icarflex.mocks.openflex.app import create_app
from openflex_support import World, client_transport, sample_value

CONTRACT = load_contract()
DEFAULTS = ApiVoSettings.defaults(CONTRACT)
FIELD_ROWS = CONTRACT.rows_of("field")
CAPABILITY_ROWS = CONTRACT.rows_of("capability")
ENTRY = CONTRACT.entry_status
# The DMS's own status move from the entry status (Entrée Physique): what it writes in `status`.
DMS_ENTRY_MOVE = next(t for t in CONTRACT.lifeline.transitions if t.from_ == ENTRY and "dms" in t.actors)


def row_id(row: ParameterRow) -> str:
    return row.id


def dms_write(world: World, field_id: str) -> tuple[str, dict]:
    """A vehicle in the entry status and a DMS write of `field_id` that nothing else refuses."""
    vehicle = world.create_vehicle()
    if field_id == "status":
        for name in DMS_ENTRY_MOVE.requires:
            world.satisfy(name, vehicle["id"])
        return vehicle["id"], {"status": DMS_ENTRY_MOVE.to}
    return vehicle["id"], {field_id: sample_value(CONTRACT, field_id, vehicle[field_id], world)}


def assert_dms_write(world: World, field_id: str, allowed: bool) -> None:
    vehicle_id, change = dms_write(world, field_id)
    before = world.vehicle(vehicle_id)
    answer = world.dms.patch(f"/vehicles/{vehicle_id}", change)
    if allowed:
        assert answer.ok()[field_id] == change[field_id]
    else:
        problem = answer.problem(403, "FIELD_NOT_MODIFIABLE")
        assert (problem["fields"], problem["rule"]) == ([field_id], ["R6"])
        assert problem["violations"][0]["row"] == field_id
        assert world.vehicle(vehicle_id) == before


@pytest.mark.parametrize("flipped", [False, True], ids=["default", "flipped"])
@pytest.mark.parametrize("row", FIELD_ROWS, ids=row_id)
def test_dms_writes_a_field_exactly_when_its_row_says_so(world: World, row: ParameterRow, flipped: bool):
    expected = DEFAULTS.dms_may_modify(row.id)
    if flipped:
        assert world.flip(row.id) is not expected
        expected = not expected
    assert_dms_write(world, row.id, expected)


@pytest.mark.parametrize("row", FIELD_ROWS, ids=row_id)
def test_with_the_dms_as_master_every_field_row_is_writable(world: World, row: ParameterRow):
    """Inferred effect of uc_car_management_activated (guide §2): the DMS becomes master."""
    assert world.flip(MASTER_SETTING) is True
    assert_dms_write(world, row.id, True)


def test_a_refused_dms_write_names_every_offending_field_and_applies_none(world: World):
    vehicle = world.create_vehicle()
    refused = [r.id for r in FIELD_ROWS if not DEFAULTS.dms_may_modify(r.id)]
    change = {f: sample_value(CONTRACT, f, vehicle[f], world) for f in refused}
    problem = world.dms.patch(f"/vehicles/{vehicle['id']}", {**change, "mileage": 99_000}).problem(
        403, "FIELD_NOT_MODIFIABLE")
    assert sorted(problem["fields"]) == sorted(refused)
    assert world.vehicle(vehicle["id"])["mileage"] == vehicle["mileage"]


def gated_transition(capability: str):
    return next(t for t in CONTRACT.lifeline.transitions if capability in t.gated_actors.values())


@pytest.mark.parametrize("flipped", [False, True], ids=["default", "flipped"])
@pytest.mark.parametrize("row", CAPABILITY_ROWS, ids=row_id)
def test_dms_capability_follows_its_row(world: World, row: ParameterRow, flipped: bool):
    transition = gated_transition(row.id)
    expected = DEFAULTS[row.id] is not flipped
    if transition.from_ is None:  # the capability gates the creation (rule R1)
        if flipped:
            world.flip(row.id)
        answer = world.dms.post("/vehicles", {
            "destination": "PARTICULIER", "origin": "PARTICULIER", "purchase_source": "ACHAT_DIRECT"})
        if expected:
            assert answer.ok(201)["status"] == ENTRY
        else:
            problem = answer.problem(403, "VEHICLE_CREATION_NOT_ALLOWED")
            assert problem["violations"][0]["row"] == row.id
        return
    destination = next(d for d, line in CONTRACT.lifeline.lifelines.items() if transition.from_ in line)
    vehicle = world.vehicle_in(transition.from_, destination)
    for name in transition.requires:
        world.satisfy(name, vehicle["id"])
    if flipped:
        world.flip(row.id)
    answer = world.dms.patch(f"/vehicles/{vehicle['id']}", {"status": transition.to})
    if expected:
        assert answer.ok()["status"] == transition.to
    else:
        problem = answer.problem(409, "TRANSITION_NOT_ALLOWED")
        assert problem["violations"][0]["row"] == row.id


PRICES = [0.5, 1, 1.01]


@pytest.mark.parametrize("editable", [True, False])
@pytest.mark.parametrize("price", PRICES)
@pytest.mark.parametrize("field_id", CONTRACT.vehicle.price_fields)
def test_sale_prices_at_or_below_one_need_uc_price_editable(client_world: World, field_id: str, price: float,
                                                            editable: bool):
    """Rule R7, written by the actor the field belongs to (entered in ICAR: the DMS)."""
    world = client_world
    if editable is not DEFAULTS[PRICE_SETTING]:
        world.flip(PRICE_SETTING)
    writer = world.dms if CONTRACT.rows[field_id].entered_in == "ICAR" else world.openflex
    vehicle = world.create_vehicle()
    answer = writer.patch(f"/vehicles/{vehicle['id']}", {field_id: price})
    if price > 1 or editable:
        assert answer.ok()[field_id] == price
    else:
        problem = answer.problem(422, "PRICE_NOT_ALLOWED")
        assert (problem["fields"], problem["rule"]) == ([field_id], ["R7"])
        assert world.vehicle(vehicle["id"])[field_id] == vehicle[field_id]


def test_a_creation_at_one_euro_is_refused_when_prices_are_not_editable(world: World):
    world.flip(PRICE_SETTING)
    answer = world.openflex.post("/vehicles", {"destination": "CASSE", "origin": "PARTICULIER",
                                               "purchase_source": "REPRISE", "sale_price": 1})
    assert answer.problem(422, "PRICE_NOT_ALLOWED")["fields"] == ["sale_price"]
    assert world.openflex.get("/vehicles").ok()["items"] == []


def test_every_row_of_the_parameterization_is_covered_by_a_behaviour_test():
    covered = {r.id for r in FIELD_ROWS} | {r.id for r in CAPABILITY_ROWS} | {MASTER_SETTING, PRICE_SETTING}
    assert covered == set(CONTRACT.rows)


# -- the settings endpoints ----------------------------------------------------------
def test_get_settings_is_the_guides_defaults_for_every_actor(world: World):
    for actor in ("openflex_user", "dms", "mobile_app", "admin"):
        assert world.as_actor(actor).get("/settings/api-vo").ok() == DEFAULTS.to_json()


def test_put_settings_merges_and_persists_a_subset(world: World):
    body = {"fields": {"vin": {"dms_modifiable": True}}, "capabilities": {"create_vehicles": True}}
    merged = world.admin.put("/settings/api-vo", body).ok()
    expected = DEFAULTS.merge(body).to_json()
    assert merged == expected == world.dms.get("/settings/api-vo").ok()
    world.admin.put("/settings/api-vo", {"settings": {PRICE_SETTING: False}}).ok()
    assert world.dms.get("/settings/api-vo").ok() == DEFAULTS.merge(body).merge(
        {"settings": {PRICE_SETTING: False}}).to_json()


@pytest.mark.parametrize("actor", ["openflex_user", "dms", "mobile_app"])
def test_only_admin_puts_settings(world: World, actor: str):
    world.as_actor(actor).put("/settings/api-vo", {"capabilities": {"create_vehicles": True}}).problem(
        403, "FORBIDDEN")
    assert world.openflex.get("/settings/api-vo").ok() == DEFAULTS.to_json()


@pytest.mark.parametrize(("body", "field"), [
    ({"fields": {"bogus": {"dms_modifiable": True}}}, "fields.bogus"),
    ({"fields": {"vin": True}}, "fields.vin"),
    ({"fields": {"vin": None}}, "fields.vin"),
    ({"settings": {"create_vehicles": True}}, "settings.create_vehicles"),
    ({"capabilities": {"create_vehicles": "yes"}}, "capabilities.create_vehicles"),
    ({"rows": {}}, "rows"),
])
def test_a_bad_settings_body_is_refused_naming_the_row(world: World, body: dict, field: str):
    problem = world.admin.put("/settings/api-vo", body).problem(422, "VALIDATION_ERROR")
    assert any(f.startswith(field) for f in problem["fields"]), problem
    assert world.openflex.get("/settings/api-vo").ok() == DEFAULTS.to_json()


def test_a_dealers_settings_are_its_own(world: World):
    world.admin.put("/__admin/settings/demo2", {"capabilities": {"create_vehicles": True}}).ok()
    assert world.as_actor("dms", "demo2").post("/vehicles", {
        "destination": "MARCHAND", "origin": "PROFESSIONNEL", "vat_recoverable": False,
        "purchase_source": "ACHAT_DIRECT"}).status == 201
    world.dms.post("/vehicles", {"destination": "MARCHAND", "origin": "PROFESSIONNEL",
                                 "purchase_source": "ACHAT_DIRECT"}).problem(403,
                                                                             "VEHICLE_CREATION_NOT_ALLOWED")
    assert world.admin.get("/__admin/settings/demo").ok() == DEFAULTS.to_json()


def test_the_served_profile_is_every_dealers_base_and_reset_returns_to_it(tmp_path: Path):
    profile = tmp_path / "profile.yaml"
    profile.write_text(yaml.safe_dump({"fields": {"mileage": {"dms_modifiable": False}}}), encoding="utf-8")
    app = create_app({"DB": str(tmp_path / "db.sqlite3"), "PROFILE": str(profile), "TESTING": True})
    world = World(client_transport(app.test_client()))
    served = DEFAULTS.merge({"fields": {"mileage": {"dms_modifiable": False}}}).to_json()
    assert world.as_actor("dms", "demo2").get("/settings/api-vo").ok() == served
    world.admin.put("/settings/api-vo", {"settings": {PRICE_SETTING: False}}).ok()
    assert_dms_write(world, "mileage", False)
    world.admin.post("/__admin/reset").ok()
    assert world.openflex.get("/settings/api-vo").ok() == served
