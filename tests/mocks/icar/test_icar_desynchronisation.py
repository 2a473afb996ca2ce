"""Rule R10 (inferred): an ICAR operation OpenFlex refused or never received is a
desynchronisation the checker reports from both journals; replaying the entry once the cause
is fixed pushes the same police number and settles it. Both fakes live, real HTTP."""
from __future__ import annotations

from typing import Any

from icarflex.scenarios.checker import DESYNC, DESYNC_REFUSED, DESYNC_RESOLVED, check_journal, read_journal

ADMIN_KEY = "demo-admin-key"
UNKNOWN_VIN = "XXX1234567ABCDEFG"  # pattern-valid, unknown to the reference table: NOT_RECONCILED


def both_journals(systems: Any) -> list[dict[str, Any]]:
    entries = []
    for url in (systems.openflex_url, systems.icar_url):
        reply = systems.session.get(f"{url}/__admin/journal?format=jsonl",
                                    headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30)
        assert reply.status_code == 200, reply.text
        entries += read_journal(reply.text.splitlines())
    return entries


def desyncs(systems: Any) -> list[tuple[str, str | None]]:
    return [(f.kind, f.rule) for f in check_journal(both_journals(systems)) if f.kind.startswith(DESYNC)]


def test_an_entry_openflex_never_received_is_a_desynchronisation_until_replayed_with_its_number(systems):
    created, record = systems.matched()
    systems.faults(error_rate=1.0, error_status=503, methods=["PATCH"])  # OpenFlex down for writes
    reply = systems.icar("POST", f"/vehicles/{record['id']}/physical-entry", {"mileage": 43_000})
    assert (reply.status_code, reply.json()["code"]) == (504, "UPSTREAM_UNAVAILABLE"), reply.text
    assert desyncs(systems) == [(DESYNC, "R10")]
    assert any(f.failing for f in check_journal(both_journals(systems)) if f.kind == DESYNC)
    failed = systems.sync_log(operation="physical_entry")[-1]
    number = failed["body"]["police_number"]

    systems.faults()  # the cause is fixed: OpenFlex answers again
    replay = systems.icar("POST", f"/sync-log/{failed['id']}/replay")
    assert replay.status_code == 200, replay.text
    vehicle = systems.openflex_vehicle(created["id"])
    assert (vehicle["status"], vehicle["police_number"]) == ("ENTREE_PHYSIQUE", number)
    assert desyncs(systems) == [(DESYNC_RESOLVED, "R10")]
    assert not [f for f in check_journal(both_journals(systems)) if f.failing]


def test_an_entry_openflex_refuses_is_reported_and_settled_once_the_match_is_corrected(systems):
    created = systems.vehicle(vin=UNKNOWN_VIN, registration=None)
    assert created["reconciliation"] == "NOT_RECONCILED"
    record = systems.icar("POST", "/vehicles/match", {"openflex_id": created["id"]}).json()
    refused = systems.icar("POST", f"/vehicles/{record['id']}/physical-entry", {"mileage": 43_000})
    assert (refused.status_code, refused.json()["rule"]) == (502, ["R2"]), refused.text
    assert desyncs(systems) == [(DESYNC_REFUSED, "R10")]
    assert not [f for f in check_journal(both_journals(systems)) if f.failing]  # reported, both agree

    reference = systems.reference(3)
    fixed = systems.openflex("PATCH", f"/vehicles/{created['id']}", {"vin": reference["vin"]})
    assert fixed.json()["reconciliation"] == "RECONCILED", fixed.text
    entered = systems.icar("POST", f"/vehicles/{record['id']}/physical-entry", {"mileage": 43_000})
    assert entered.status_code == 200, entered.text
    assert systems.openflex_vehicle(created["id"])["police_number"] == entered.json()["police_number"]
    assert desyncs(systems) == [(DESYNC_RESOLVED, "R10")]


def test_a_refused_entry_replayed_once_the_match_is_corrected_pushes_the_same_police_number(systems):
    created = systems.vehicle(vin=UNKNOWN_VIN, registration=None)
    record = systems.icar("POST", "/vehicles/match", {"openflex_id": created["id"]}).json()
    refused = systems.icar("POST", f"/vehicles/{record['id']}/physical-entry", {"mileage": 43_000})
    assert refused.status_code == 502, refused.text
    entry = systems.sync_log(operation="physical_entry")[-1]
    number = entry["body"]["police_number"]
    register = systems.icar("GET", "/police-register").json()["items"]
    assert [(e["number"], e["state"]) for e in register] == [(number, "REFUSED")]
    again = systems.icar("POST", f"/sync-log/{entry['id']}/replay")  # the cause is not fixed yet
    assert again.status_code == 502, again.text

    fixed = systems.openflex("PATCH", f"/vehicles/{created['id']}", {"vin": systems.reference(3)["vin"]})
    assert fixed.json()["reconciliation"] == "RECONCILED", fixed.text
    replay = systems.icar("POST", f"/sync-log/{entry['id']}/replay")
    assert replay.status_code == 200, replay.text
    assert (replay.json()["record"]["status"], replay.json()["record"]["police_number"]) == ("STOCK", number)
    vehicle = systems.openflex_vehicle(created["id"])
    assert (vehicle["status"], vehicle["police_number"]) == ("ENTREE_PHYSIQUE", number)
    register = systems.icar("GET", "/police-register").json()["items"]
    assert [(e["number"], e["state"]) for e in register] == [(number, "BOOKED")]  # one line, no gap
    assert desyncs(systems) == [(DESYNC_RESOLVED, "R10")]
    settled = systems.icar("POST", f"/sync-log/{entry['id']}/replay")
    assert (settled.status_code, settled.json()["fields"]) == (409, ["outbox_id"])
