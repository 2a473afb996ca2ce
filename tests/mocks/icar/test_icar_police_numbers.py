"""The livre de police: sequential per site in order of entry, unique, never reused."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

from icar_support import problem
from icarflex.mocks.icar.lifecycle import lifecycle

LIFE = lifecycle()
ENTRIES = 8


def test_police_numbers_stay_sequential_and_unique_under_concurrent_entries(systems):
    pairs = [systems.matched(index) for index in range(ENTRIES)]
    start = threading.Barrier(ENTRIES)

    def enter(record_id: str) -> int:
        session_systems = type(systems)(systems.openflex_url, systems.icar_url)
        start.wait()
        reply = session_systems.icar("POST", f"/vehicles/{record_id}/physical-entry", {"mileage": 40_000})
        return reply.status_code

    with ThreadPoolExecutor(ENTRIES) as pool:
        statuses = list(pool.map(enter, [record["id"] for _, record in pairs]))
    assert statuses == [200] * ENTRIES

    register = systems.icar("GET", "/police-register").json()["items"]
    start = register[0]["seq"]  # the register survives resets: numbers are never reused
    assert [e["seq"] for e in register] == list(range(start, start + ENTRIES))  # in order of entry, no gap
    assert len({e["number"] for e in register}) == ENTRIES
    assert all(re.fullmatch(r"PARIS16-\d{4}-\d{6}", e["number"]) for e in register)
    assert all(e["number"].endswith(f"-{e['seq']:06d}") for e in register)
    for created, record in pairs:
        dms = systems.icar("GET", f"/vehicles/{record['id']}").json()
        assert dms["status"] == LIFE.stock
        assert systems.openflex_vehicle(created["id"])[LIFE.police_field] == dms["police_number"]


def test_each_dealer_site_keeps_its_own_register(systems):
    _, record = systems.in_stock()
    created2 = systems.openflex("POST", "/vehicles", {
        "vin": systems.reference(9)["vin"], "destination": "MARCHAND", "origin": "PARTICULIER",
        "purchase_source": "REPRISE"}, key="demo2-openflex-key").json()
    match = systems.icar("POST", "/vehicles/match", {"openflex_id": created2["id"]}, key="demo2-icar-key")
    assert match.status_code == 201, match.text
    entry = systems.icar("POST", f"/vehicles/{match.json()['id']}/physical-entry", {"mileage": 1},
                         key="demo2-icar-key")
    assert entry.status_code == 200, entry.text
    assert (record["police_number"][:8], entry.json()["police_number"][:7]) == ("PARIS16-", "LYON03-")
    lyon = systems.icar("GET", "/police-register", key="demo2-icar-key").json()["items"]
    assert entry.json()["police_number"].endswith(f"-{lyon[-1]['seq']:06d}")
    assert {e["number"][:7] for e in lyon} == {"LYON03-"}


def test_an_override_already_in_the_register_is_refused(systems):
    _, first = systems.in_stock(0)
    _, second = systems.matched(1)
    reply = systems.icar("POST", f"/vehicles/{second['id']}/physical-entry",
                         {"mileage": 1, "police_number": first["police_number"]})
    assert problem(reply) == (409, "CONFLICT", ["police_number"])


def test_two_entries_of_the_same_vehicle_at_once_book_one_number(systems):
    created, record = systems.matched()
    start = threading.Barrier(2)

    def enter(_: int) -> tuple[int, str | None]:
        start.wait()
        other = type(systems)(systems.openflex_url, systems.icar_url)
        reply = other.icar("POST", f"/vehicles/{record['id']}/physical-entry", {"mileage": 1})
        return reply.status_code, reply.json().get("police_number")

    with ThreadPoolExecutor(2) as pool:
        answers = sorted(pool.map(enter, range(2)), key=lambda answer: answer[0])
    # The second is either a retry of the first, still open (answered with its outcome), or
    # comes after it settled (the record is in STOCK: 409). Never a second number.
    assert answers[0][0] == 200 and answers[1][0] in (200, 409)
    register = systems.icar("GET", "/police-register").json()["items"]
    assert [(e["number"], e["state"]) for e in register] == [(answers[0][1], "BOOKED")]
    assert answers[1][0] == 409 or answers[1][1] == answers[0][1]
    assert len(systems.dms_writes(created["id"])) == 1


def test_a_reset_never_reissues_a_police_number(systems):
    _, record = systems.in_stock()
    reset = systems.session.post(systems.icar_url + "/__admin/reset",
                                 headers={"Authorization": "Bearer demo-admin-key"}, timeout=30)
    assert reset.status_code == 200
    _, again = systems.in_stock()
    assert again["police_number"] != record["police_number"]
    assert again["police_number"] > record["police_number"]
