"""The admin side: health, seed (faker, seeded, plausible states), journal, the reference table."""
from __future__ import annotations

from pathlib import Path

import pytest
from icarflex.contracts import ApiVoSettings, evaluate, load_contract
from icarflex.mocks.openflex.app import create_app
from icarflex.mocks.openflex.reference import RECONCILIATIONS, WMI_MAKES, ReferenceTable, vin_check_digit
from openflex_support import World, client_transport

CONTRACT = load_contract()
VIN, REGISTRATION = (CONTRACT.vehicle.fields[f].pattern for f in ("vin", "registration"))


def test_health_needs_no_key_and_counts(world: World):
    world.create_vehicle()
    health = world.as_key(None).get("/__admin/health").ok()
    assert (health["status"], health["system"], health["counts"]["vehicles"]) == ("ok", "openflex", 1)


def test_seed_is_admin_only_and_deterministic(tmp_path: Path):
    worlds = [World(client_transport(create_app({"DB": str(tmp_path / f"{i}.db"),
                                                 "TESTING": True}).test_client()))
              for i in range(2)]
    worlds[0].openflex.post("/__admin/seed", {"count": 3}).problem(403, "FORBIDDEN")
    seeded = []
    for world in worlds:
        world.admin.post("/__admin/seed", {"dealer": "demo", "count": 25, "seed": 11}).ok(201)
        seeded.append([(v["vin"], v["status"], v["destination"], v["mileage"])
                       for v in world.openflex.get("/vehicles?limit=500").ok()["items"]])
    assert seeded[0] == seeded[1] and len(seeded[0]) == 25
    assert len({status for _, status, _, _ in seeded[0]}) > 2


def test_seeded_vehicles_sit_in_states_the_contract_allows(client_world: World):
    client_world.admin.post("/__admin/seed", {"dealer": "demo2", "count": 40, "seed": 5}).ok(201)
    settings = ApiVoSettings.defaults(CONTRACT)
    for vehicle in client_world.as_actor("openflex_user", "demo2").get("/vehicles?limit=500").ok()["items"]:
        line = CONTRACT.lifeline.lifelines[vehicle["destination"]]
        assert vehicle["status"] in line and vehicle["reconciliation"] == "RECONCILED"
        index = line.index(vehicle["status"])
        if index:  # the last step's preconditions hold: replaying it passes the rule engine
            previous = {**vehicle, "status": line[index - 1]}
            transition = CONTRACT.transition(line[index - 1], vehicle["status"], vehicle["destination"])
            actor = transition.actors[0] if transition.actors else next(iter(transition.gated_actors))
            assert evaluate(CONTRACT, settings, actor, previous, {"status": vehicle["status"]}) == [], vehicle


def test_the_journal_keeps_actor_dealer_and_verdict(world: World):
    vehicle = world.create_vehicle()
    world.dms.patch(f"/vehicles/{vehicle['id']}", {"mileage": 5}).ok()
    entry = world.admin.get("/__admin/journal").ok()["items"][-1]
    assert (entry["actor"], entry["dealer"], entry["method"], entry["status"]) == ("dms", "demo", "PATCH",
                                                                                   200)
    assert entry["vehicle_before"]["mileage"] == vehicle["mileage"] and entry["verdict"] == []


# -- the reference table ------------------------------------------------------------------
def test_the_reference_table_is_deterministic_and_valid():
    first, again, other = ReferenceTable(7, 100), ReferenceTable(7, 100), ReferenceTable(8, 100)
    assert first.entries == again.entries != other.entries
    import re
    for entry in first.entries:
        assert re.fullmatch(VIN, entry.vin) and re.fullmatch(REGISTRATION, entry.registration)
        assert vin_check_digit(entry.vin) == entry.vin[8] and WMI_MAKES[entry.vin[:3]] == entry.make


def test_the_reconciliation_statuses_are_the_contracts():
    assert set(RECONCILIATIONS) == set(CONTRACT.enum_values("reconciliation"))


@pytest.mark.parametrize("case", ["vin", "registration", "both", "crossed", "wmi", "nothing", "none"])
def test_the_reference_match(case: str):
    table = ReferenceTable(3, 50)
    a, b = table.entries[:2]
    vin, registration, expected, make = {
        "vin": (a.vin, None, "RECONCILED", a.make), "registration": (None, a.registration, "RECONCILED",
                                                                     a.make),
        "both": (a.vin, a.registration, "RECONCILED", a.make), "crossed": (a.vin, b.registration,
                                                                           "TO_CHECK", a.make),
        "wmi": ("VF1" + "Z" * 14, None, "TO_CHECK", "Renault"), "nothing": ("XXX" + "Z" * 14, None,
                                                                          "NOT_RECONCILED", None),
        "none": (None, None, "NOT_RECONCILED", None)}[case]
    match = table.match(vin, registration)
    assert (match.reconciliation, match.make) == (expected, make)
    if case in ("vin", "registration", "both"):
        assert (match.model, match.version) == (a.model, a.version)
    assert table.match(vin, registration) == match


def test_the_reference_endpoint_filters(world: World):
    everything = world.mobile.get("/reference/vehicles?limit=500").ok()
    assert everything["total"] == 300 and everything["wmi"]["VF1"] == "Renault"
    entry = everything["items"][4]
    assert world.dms.get(f"/reference/vehicles?vin={entry['vin']}").ok()["items"] == [entry]
    assert world.dms.get(f"/reference/vehicles?registration={entry['registration']}").ok()["items"] == [entry]
    same_make = world.dms.get(f"/reference/vehicles?make={entry['make']}&limit=500").ok()["items"]
    makes = {e["make"] for e in same_make}
    assert makes == {entry["make"]}
