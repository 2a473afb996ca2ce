"""Business events a dealership throws at a connector, injected as data in the fault layer
(`events` of PUT /__admin/faults on OpenFlex), over real HTTP with both fakes live: how the
ICAR connector copes, and what the checker says of OpenFlex's journal.

- the OpenFlex answer is lost after the write landed: the connector does not apply it twice;
- the DMS push is delivered twice: the vehicle moves once, the repeat is harmless;
- a dealer flips a row mid-workflow: the connector reads the parameterization and leaves out
  what the DMS may no longer write;
- an OpenFlex user changes the destination after the physical entry: the vehicle follows the
  new destination's lifeline, the old path is refused naming R4;
- a dated reservation expires: the vehicle is advertised again and still needs the blocking
  reservation (R5) to be delivered outside Opportunités.
"""
from __future__ import annotations

from typing import Any

from icarflex.mocks.icar.lifecycle import lifecycle
from icarflex.scenarios.checker import check_journal, read_journal

LIFE = lifecycle()
ADMIN_KEY, OPENFLEX_KEY = "demo-admin-key", "demo-openflex-key"
VEHICLE_PATH = r"/api/v1/vehicles/(?P<vehicle_id>[^/]+)"


def events(systems: Any, *items: dict[str, Any]) -> None:
    systems.faults(events=list(items))


def journal(systems: Any) -> list[dict[str, Any]]:
    reply = systems.openflex("GET", "/__admin/journal?format=jsonl", key=ADMIN_KEY)
    assert reply.status_code == 200, reply.text
    return read_journal(reply.text.splitlines())


def failing(systems: Any) -> list[Any]:
    return [f for f in check_journal(journal(systems)) if f.failing]


def entry_writes(systems: Any, vehicle_id: str) -> list[dict[str, Any]]:
    return [w for w in systems.dms_writes(vehicle_id) if LIFE.police_field in w["data"]["changes"]]


def test_an_answer_lost_after_the_commit_is_not_applied_twice(systems):
    created, record = systems.matched()
    events(systems, {"kind": "drop_after_commit", "method": "PATCH", "path": VEHICLE_PATH,
                     "body_has": {"status": LIFE.physical_entry}})
    reply = systems.icar("POST", f"/vehicles/{record['id']}/physical-entry", {"mileage": 43_000})
    assert reply.status_code == 200, reply.text
    entry = systems.sync_log(operation="physical_entry")[-1]
    assert entry["outcome"] == "OK" and any(t.get("landed") for t in entry["tries"])
    assert [t["method"] for t in entry["tries"]].count("PATCH") == 1  # never sent again
    writes = entry_writes(systems, created["id"])
    assert len(writes) == 1
    assert writes[0]["data"]["changes"][LIFE.police_field] == reply.json()["police_number"]
    assert systems.openflex_vehicle(created["id"])["status"] == LIFE.physical_entry
    assert failing(systems) == []


def test_a_dms_push_delivered_twice_moves_the_vehicle_once(systems):
    created, record = systems.matched()
    events(systems, {"kind": "duplicate", "method": "PATCH", "path": VEHICLE_PATH,
                     "body_has": {"status": LIFE.physical_entry}})
    reply = systems.icar("POST", f"/vehicles/{record['id']}/physical-entry", {"mileage": 43_000})
    assert reply.status_code == 200, reply.text
    patches = [e for e in journal(systems) if e["method"] == "PATCH" and e["actor"] == "dms"]
    assert len(patches) == 2  # the repeat reached OpenFlex
    assert patches[1]["status"] in (200, 412)  # a no-op, or refused by If-Match: never a second move
    assert len(entry_writes(systems, created["id"])) == 1
    assert systems.openflex_vehicle(created["id"])["police_number"] == reply.json()["police_number"]
    assert failing(systems) == []


def test_a_dealer_flipping_a_row_mid_workflow_is_followed_by_the_connector(systems):
    created, record = systems.matched()
    events(systems, {"kind": "follow_up", "method": "PATCH", "path": VEHICLE_PATH,
                     "body_has": {"status": LIFE.physical_entry},
                     "then": {"method": "PUT", "path": "/api/v1/settings/api-vo", "key": ADMIN_KEY,
                              "body": {"fields": {"mileage": {"dms_modifiable": False}}}}})
    assert systems.icar("POST", f"/vehicles/{record['id']}/physical-entry",
                        {"mileage": 43_000}).status_code == 200
    settings = systems.openflex("GET", "/settings/api-vo").json()
    assert settings["fields"]["mileage"]["dms_modifiable"] is False
    # A well-behaved connector reads the row: the next physical entry leaves the mileage out.
    other, other_record = systems.matched(1)
    assert systems.icar("POST", f"/vehicles/{other_record['id']}/physical-entry",
                        {"mileage": 51_000}).status_code == 200
    assert systems.openflex_vehicle(other["id"])["mileage"] == other["mileage"]
    assert failing(systems) == []
    # A direct mileage push is refused naming the row, and nothing of it is applied.
    pushed = systems.icar("PATCH", f"/vehicles/{record['id']}", {"mileage": 45_000})
    assert (pushed.status_code, pushed.json()["rule"], pushed.json()["fields"]) == (502, ["R6"], ["mileage"])
    assert systems.openflex_vehicle(created["id"])["mileage"] == 43_000
    assert [(f.kind, f.rule, f.row) for f in check_journal(journal(systems)) if f.rule == "R6"] == [
        ("attempt", "R6", "mileage")]


def test_a_destination_changed_after_the_physical_entry_changes_the_lifeline(systems):
    created, record = systems.matched()
    events(systems, {"kind": "follow_up", "method": "PATCH", "path": VEHICLE_PATH,
                     "body_has": {"status": LIFE.physical_entry},
                     "then": {"method": "PATCH", "path": "/api/v1/vehicles/{vehicle_id}", "key": OPENFLEX_KEY,
                              "body": {"destination": "MARCHAND"}}})
    assert systems.icar("POST", f"/vehicles/{record['id']}/physical-entry",
                        {"mileage": 43_000}).status_code == 200
    vehicle = systems.openflex_vehicle(created["id"])
    assert (vehicle["destination"], vehicle["status"]) == ("MARCHAND", LIFE.physical_entry)
    refused = systems.openflex("PATCH", f"/vehicles/{created['id']}", {"status": "VERIF_POST_PREPARATION"})
    assert (refused.status_code, refused.json()["rule"]) == (409, ["R4"])
    findings = check_journal(journal(systems))
    assert [(f.kind, f.rule, f.field) for f in findings if f.rule == "R4"] == [("attempt", "R4", "status")]
    assert [f for f in findings if f.failing] == []


def test_an_expired_dated_reservation_advertises_the_vehicle_again_and_is_no_sale_channel(systems):
    created, record = systems.in_stock(destination="PARTICULIER")
    for status in ("VERIF_POST_PREPARATION", "STOCK_VENTE"):
        assert systems.openflex("PATCH", f"/vehicles/{created['id']}", {"status": status}).status_code == 200
    dated = systems.openflex("POST", f"/vehicles/{created['id']}/reservations",
                             {"kind": "DATED", "blocks_sale": True, "blocks_publication": True,
                              "until": "2030-01-31", "comment": "client en réflexion"})
    assert dated.status_code == 201, dated.text
    assert systems.openflex_vehicle(created["id"])["published"] is False
    events(systems, {"kind": "follow_up", "method": "GET", "path": VEHICLE_PATH,
                     "then": {"method": "DELETE", "key": OPENFLEX_KEY, "when": "before",
                              "path": f"/api/v1/vehicles/{{vehicle_id}}/reservations/{dated.json()['id']}"}})
    vehicle = systems.openflex_vehicle(created["id"])  # the reservation's date passes before this read
    assert (vehicle["reservations"], vehicle["published"]) == ([], True)
    refused = systems.openflex("PATCH", f"/vehicles/{created['id']}", {"status": "LIVRAISON"})
    assert (refused.status_code, refused.json()["code"]) == (409, "RESERVATION_REQUIRED")


def test_a_malformed_event_is_refused_naming_it_and_the_faults_stay_as_they_were(systems):
    for bad in ({"kind": "follow_up", "path": VEHICLE_PATH},                       # no `then`
                {"kind": "duplicate", "path": "(unclosed"},                          # not a regex
                {"kind": "explode", "path": VEHICLE_PATH}):                          # no such kind
        reply = systems.openflex("PUT", "/__admin/faults", {"events": [bad]}, key=ADMIN_KEY)
        assert reply.status_code == 422, reply.text
        assert reply.json()["code"] == "VALIDATION_ERROR" and "events" in str(reply.json()["fields"])
    assert systems.openflex("GET", "/__admin/faults", key=ADMIN_KEY).json()["events"] == []
