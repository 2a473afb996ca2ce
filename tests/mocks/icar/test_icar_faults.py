"""OpenFlex slowed or failing (faults injected through its /__admin/faults): the connector
retries with backoff, logs every call, loses nothing and never applies a write twice —
checked on OpenFlex's own change feed (one DMS write event per intended write)."""
from __future__ import annotations

import time

from icarflex.mocks.icar.lifecycle import lifecycle

LIFE = lifecycle()


def test_a_write_slower_than_the_timeout_lands_once(systems, sync):
    created, record = systems.matched()
    slower_than_timeout_ms = int(sync["SYNC_TIMEOUT"] * 1000) + 400
    systems.faults(latency_ms=slower_than_timeout_ms, methods=["PATCH"], count=1)
    reply = systems.icar("POST", f"/vehicles/{record['id']}/physical-entry", {"mileage": 43_000})
    assert reply.status_code == 200, reply.text
    time.sleep(slower_than_timeout_ms / 1000)  # let the timed-out request finish inside OpenFlex
    entry = systems.sync_log(operation="physical_entry")[-1]
    assert entry["outcome"] == "OK"
    assert [t["method"] for t in entry["tries"]][:2] == ["GET", "PATCH"]
    assert entry["tries"][1]["status"] is None and "timeout" in entry["tries"][1]["error"]
    writes = systems.dms_writes(created["id"])
    assert len(writes) == 1
    assert writes[0]["data"]["changes"][LIFE.police_field] == reply.json()["police_number"]
    assert systems.openflex_vehicle(created["id"])["status"] == LIFE.physical_entry


def test_5xx_answers_are_retried_until_the_write_goes_through(systems):
    created, record = systems.in_stock()
    systems.faults(error_rate=1.0, error_status=503, methods=["PATCH"], count=2)
    reply = systems.icar("POST", f"/vehicles/{record['id']}/frevo", {"label": "Pare-brise", "amount": 410.0})
    assert reply.status_code == 201, reply.text
    entry = systems.sync_log(operation="frevo")[-1]
    assert (entry["outcome"], entry["attempts"], entry["status"]) == ("OK", 3, 200)
    assert [t["status"] for t in entry["tries"] if t["method"] == "PATCH"] == [503, 503, 200]
    frevo_writes = [w for w in systems.dms_writes(created["id"]) if LIFE.frevo_field in w["data"]["changes"]]
    assert len(frevo_writes) == 1
    assert systems.openflex_vehicle(created["id"])[LIFE.frevo_field] == 410.0


def fail_an_entry(systems, sync) -> tuple[dict, dict, dict]:
    """A physical entry whose push fails after the bounded retries (OpenFlex answering 503)."""
    created, record = systems.matched()
    systems.faults(error_rate=1.0, error_status=503, methods=["PATCH"])
    reply = systems.icar("POST", f"/vehicles/{record['id']}/physical-entry", {"mileage": 43_000})
    problem = reply.json()
    assert (reply.status_code, problem["code"], problem["attempts"]) == \
        (504, "UPSTREAM_UNAVAILABLE", sync["SYNC_RETRIES"] + 1)
    entry = systems.sync_log(operation="physical_entry")[-1]
    assert (entry["id"], entry["outcome"], entry["status"]) == (problem["sync_id"], "FAILED", 503)
    assert entry["outbox_id"] == problem["operation_id"]
    systems.faults()
    return created, record, entry


def test_after_the_bounded_retries_the_call_is_logged_failed_and_nothing_moves(systems, sync):
    created, record, entry = fail_an_entry(systems, sync)
    number = entry["body"][LIFE.police_field]  # the intended write is kept in the log, not lost
    dms = systems.icar("GET", f"/vehicles/{record['id']}").json()
    assert (dms["status"], dms["police_number"]) == (LIFE.arrival, None)
    assert (dms["pending"]["state"], dms["pending"]["police_number"]) == ("FAILED", number)
    assert systems.openflex_vehicle(created["id"])["status"] == LIFE.openflex_entry
    assert systems.dms_writes(created["id"]) == []


def test_a_retry_after_a_failed_push_books_the_same_police_number(systems, sync):
    created, record, entry = fail_an_entry(systems, sync)
    retry = systems.icar("POST", f"/vehicles/{record['id']}/physical-entry", {"mileage": 43_000})
    assert retry.status_code == 200, retry.text
    number = entry["body"][LIFE.police_field]
    assert (retry.json()["police_number"], retry.json()["pending"]) == (number, None)
    register = systems.icar("GET", "/police-register").json()["items"]
    assert [(e["number"], e["state"]) for e in register] == [(entry["body"][LIFE.police_field], "BOOKED")]
    assert len(systems.dms_writes(created["id"])) == 1


def test_replaying_a_failed_sync_entry_pushes_the_same_police_number(systems, sync):
    created, record, entry = fail_an_entry(systems, sync)
    number = entry["body"][LIFE.police_field]
    reply = systems.icar("POST", f"/sync-log/{entry['id']}/replay")
    assert reply.status_code == 200, reply.text
    replay = reply.json()
    assert (replay["sync"]["outcome"], replay["sync"]["body"][LIFE.police_field]) == ("OK", number)
    assert (replay["operation"]["state"], replay["record"]["status"]) == ("DONE", LIFE.stock)
    assert replay["record"]["police_number"] == number
    assert systems.openflex_vehicle(created["id"])[LIFE.police_field] == number
    writes = systems.dms_writes(created["id"])
    assert [w["data"]["changes"][LIFE.police_field] for w in writes] == [number]
    register = systems.icar("GET", "/police-register").json()["items"]
    assert [(e["number"], e["state"]) for e in register] == [(number, "BOOKED")]
    again = systems.icar("POST", f"/sync-log/{entry['id']}/replay")  # settled: nothing to replay
    assert (again.status_code, again.json()["fields"]) == (409, ["outbox_id"])


def test_only_a_failed_write_is_replayed(systems):
    _, record = systems.in_stock()
    ok = systems.sync_log(operation="physical_entry")[-1]
    reply = systems.icar("POST", f"/sync-log/{ok['id']}/replay")
    assert (reply.status_code, reply.json()["code"], reply.json()["fields"]) == (409, "CONFLICT", ["outcome"])
    assert systems.icar("POST", "/sync-log/999999999/replay").status_code == 404


def test_reads_are_retried_too(systems):
    created = systems.vehicle()
    systems.faults(error_rate=1.0, error_status=502, methods=["GET"], count=2)
    reply = systems.icar("POST", "/vehicles/match", {"openflex_id": created["id"]})
    assert reply.status_code == 201, reply.text
    entry = systems.sync_log(operation="match")[-1]
    assert (entry["outcome"], entry["attempts"], [t["status"] for t in entry["tries"]]) == \
        ("OK", 3, [502, 502, 200])
