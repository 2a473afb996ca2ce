"""Concurrent PATCHes of one vehicle over real HTTP (grouped into batches by the fake): each is
judged on the state the previous one left, each answers its own version, and the change feed
holds every write once, in version order."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Flask
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.common.store import loads
from openflex_support import KEYS, World, sample_value

WRITERS = 16


def patch_all(url: str, bodies: list[dict], headers: list[dict]) -> list[requests.Response]:
    start = threading.Barrier(len(bodies))

    def one(i: int) -> requests.Response:
        start.wait()
        return requests.patch(url, json=bodies[i], timeout=30,
                              headers={"Authorization": f"Bearer {KEYS['dms']}", **headers[i]})

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, range(len(bodies))))


def test_concurrent_writes_of_one_vehicle_each_take_one_version(world: World, live: LiveServer):
    vehicle = world.vehicle_in("ENTREE_PHYSIQUE", "MARCHAND")
    cursor = world.openflex.get("/events").ok()["next_cursor"]
    url = f"{live.url}/api/v1/vehicles/{vehicle['id']}"
    replies = patch_all(url, [{"mileage": 10_000 + i} for i in range(WRITERS)], [{}] * WRITERS)
    assert [r.status_code for r in replies] == [200] * WRITERS
    versions = sorted(int(r.json()["version_tag"].lstrip("v")) for r in replies)
    first = int(vehicle["version_tag"].lstrip("v")) + 1
    assert versions == list(range(first, first + WRITERS))
    assert all(r.headers["ETag"] == f'"{r.json()["version_tag"]}"' for r in replies)
    last = max(replies, key=lambda r: int(r.json()["version_tag"].lstrip("v"))).json()
    assert world.vehicle(vehicle["id"]) == last  # the store holds the last write, as served
    updates = [e for e in world.openflex.get(f"/events?after={cursor}&limit=1000").ok()["items"]
               if e["type"] == "vehicle.updated"]
    by_version = sorted(replies, key=lambda r: int(r.json()["version_tag"].lstrip("v")))
    assert [e["data"]["changes"]["mileage"] for e in updates] == [r.json()["mileage"] for r in by_version]
    assert all(e["actor"] == "dms" for e in updates)


def test_of_concurrent_writes_with_one_if_match_only_one_lands(world: World, live: LiveServer):
    vehicle = world.vehicle_in("ENTREE_PHYSIQUE", "MARCHAND")
    url = f"{live.url}/api/v1/vehicles/{vehicle['id']}"
    if_match = {"If-Match": f'"{vehicle["version_tag"]}"'}
    replies = patch_all(url, [{"mileage": 20_000 + i} for i in range(WRITERS)], [if_match] * WRITERS)
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [200] + [412] * (WRITERS - 1)
    winner = next(r for r in replies if r.status_code == 200).json()
    assert world.vehicle(vehicle["id"])["mileage"] == winner["mileage"]
    assert all(r.json()["code"] == "PRECONDITION_FAILED" for r in replies if r.status_code == 412)


def test_a_refused_write_among_concurrent_ones_changes_nothing_of_its_own(world: World, live: LiveServer):
    vehicle = world.vehicle_in("ENTREE_PHYSIQUE", "MARCHAND")
    forbidden = next(row.id for row in world.contract.rows_of("field")
                     if not world.settings().dms_may_modify(row.id) and vehicle.get(row.id) is not None)
    url = f"{live.url}/api/v1/vehicles/{vehicle['id']}"
    bodies = [{"mileage": 30_000 + i} for i in range(WRITERS - 1)]
    bodies.append({forbidden: sample_value(world.contract, forbidden, vehicle[forbidden], world)})
    replies = patch_all(url, bodies, [{}] * WRITERS)
    assert [r.status_code for r in replies[:-1]] == [200] * (WRITERS - 1)
    refused = replies[-1]
    assert refused.status_code == 403 and forbidden in refused.json()["fields"], refused.json()
    assert world.vehicle(vehicle["id"])[forbidden] == vehicle[forbidden]


def test_patches_racing_reservations_and_readers_lose_nothing(world: World, live: LiveServer, app: Flask):
    """PATCHes answered before their store write (when the fake knows the vehicle current) race
    reservations (another writer, which must come after them) and readers of the store."""
    vehicle = world.vehicle_in("ENTREE_PHYSIQUE", "MARCHAND")
    cursor = world.openflex.get("/events").ok()["next_cursor"]
    base = f"{live.url}/api/v1/vehicles/{vehicle['id']}"
    headers = {"Authorization": f"Bearer {KEYS['dms']}"}
    user = {"Authorization": f"Bearer {KEYS['openflex_user']}"}
    start = threading.Barrier(5)

    def patches(offset: int) -> list[requests.Response]:
        start.wait()
        with requests.Session() as session:
            return [session.patch(base, json={"mileage": 50_000 + offset + 4 * i}, headers=headers,
                                  timeout=30)
                    for i in range(40)]

    def reservations() -> int:
        start.wait()
        with requests.Session() as session:
            for _ in range(10):
                made = session.post(f"{base}/reservations", headers=user, timeout=30, json={
                    "kind": "UNLIMITED", "blocks_sale": False, "blocks_publication": False})
                assert made.status_code == 201, made.text
                lifted = session.delete(f"{base}/reservations/{made.json()['id']}", headers=user, timeout=30)
                assert lifted.status_code == 204, lifted.text
                listed = session.get(f"{live.url}/api/v1/vehicles", headers=user, timeout=30).json()
                assert any(v["id"] == vehicle["id"] for v in listed["items"])
        return 20

    with ThreadPoolExecutor(5) as pool:
        writers = [pool.submit(patches, offset) for offset in range(4)]
        moves = pool.submit(reservations)
        replies = [r for w in writers for r in w.result()]
        assert moves.result() == 20
    assert [r.status_code for r in replies] == [200] * len(replies)
    feed = world.openflex.get(f"/events?after={cursor}&limit=1000").ok()["items"]
    written = [e["data"]["changes"]["mileage"] for e in feed if e["type"] == "vehicle.updated"]
    assert sorted(written) == sorted(r.json()["mileage"] for r in replies)  # each once, none lost
    by_version = sorted(replies, key=lambda r: int(r.json()["version_tag"].lstrip("v")))
    assert written == [r.json()["mileage"] for r in by_version]  # the feed in version order
    final = world.openflex.get(f"/vehicles/{vehicle['id']}")
    row = app.extensions["icarflex"].backend.store.one(
        "SELECT version, doc FROM openflex_vehicles WHERE id = ?", (vehicle["id"],))
    assert final.headers["ETag"] == f'"v{row["version"]}"'
    assert final.ok()["mileage"] == by_version[-1].json()["mileage"] == loads(row["doc"])["mileage"]
    assert final.ok()["reservations"] == []
