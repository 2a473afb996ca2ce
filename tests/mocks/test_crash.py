"""Crash tests, real processes: `kill -9` of `icarflex serve` while 8 keep-alive clients write.

Each round starts serve on the same store, lets 8 clients send 1,200 writes, kills the whole
process group with SIGKILL at a random moment of the load, restarts serve and checks what
was answered: every acknowledged write is in the store and in the change feed, and no
version (ETag) or id answered before the crash is issued again after it. On both backends.
"""
from __future__ import annotations

import http.client
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from serving import CREATION, KEYS, Client, Served, call, feed, start_serve

CLIENTS = 8
PER_CLIENT = 150  # 1,200 writes a round, the kill falls among them
ROUNDS = 3


def version(etag: str) -> int:
    return int(etag.strip('"').lstrip("v"))


def load_until_killed(served: Served, write: Callable[[Client, int, int], Any]) -> list[Any]:
    """8 clients write (`write(client, client_no, i)` → what was acknowledged, or None) until
    serve is killed, at a random moment between the 150th and the 700th acknowledgement."""
    acknowledged: list[Any] = []
    lock = threading.Lock()
    kill_at = random.randint(150, 700)
    killed = threading.Event()

    def run(number: int) -> None:
        client = Client(served.openflex, KEYS["dms"] if write is patch else KEYS["openflex_user"])
        try:
            for i in range(PER_CLIENT):
                ack = write(client, number, i)
                with lock:
                    acknowledged.append(ack)
                    if len(acknowledged) >= kill_at and not killed.is_set():
                        killed.set()
                        served.kill()
        except (OSError, http.client.HTTPException):  # the connection died with serve (never answered)
            pass
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    served.kill()
    return acknowledged


VEHICLE: dict[str, str] = {}


def patch(client: Client, number: int, i: int) -> tuple[int, int]:
    mileage = number * 100_000 + i + 1 + 1_000 * ROUND[0]
    status, headers, body = client.send("PATCH", f"/vehicles/{VEHICLE['id']}", {"mileage": mileage})
    assert status == 200, body
    return version(headers["etag"]), mileage


def create(client: Client, number: int, i: int) -> tuple[str, str]:
    vin = f"VF1{number:02d}{ROUND[0]:02d}{i:03d}ABCDEFGH"[:17]
    status, _, body = client.send("POST", "/vehicles", {**CREATION, "vin": vin})
    assert status == 201, body
    return body["id"], vin


ROUND = [0]


@pytest.mark.parametrize("backend, workers", [("sqlite", 1), ("postgresql", 1), ("postgresql", 2)],
                         ids=["sqlite", "postgresql", "postgresql-2-workers"])
def test_kill_9_during_patches_loses_no_acknowledged_write_and_reissues_no_etag(
        backend: str, workers: int, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """With --workers 2, the kill takes the arbiter and both workers at once (its process group)."""
    db = str(tmp_path / "crash.sqlite3") if backend == "sqlite" else request.getfixturevalue("postgres_url")
    extra = ("--workers", str(workers)) if workers > 1 else ()
    served = start_serve(db, *extra)
    status, _, vehicle = call(served.openflex, "POST", "/vehicles", body=CREATION)
    assert status == 201, vehicle
    VEHICLE["id"] = vehicle["id"]
    answered: dict[int, int] = {}  # version → mileage, every PATCH acknowledged, every round
    for round_no in range(ROUNDS):
        ROUND[0] = round_no
        acks = load_until_killed(served, patch)
        assert len(acks) >= 150, f"round {round_no}: the load never got going"
        for version_no, mileage in acks:
            assert answered.setdefault(version_no, mileage) == mileage, f"ETag v{version_no} answered twice"
        served = start_serve(db, *extra)
        status, headers, stored = call(served.openflex, "GET", f"/vehicles/{VEHICLE['id']}")
        assert version(headers["etag"]) >= max(answered), "the store lost acknowledged versions"
        updates = [e for e in feed(served.openflex) if e["type"] == "vehicle.updated"]
        by_version = {n + 2: e["data"]["changes"]["mileage"] for n, e in enumerate(updates)}
        lost = {v: m for v, m in answered.items() if by_version.get(v) != m}
        assert not lost, f"round {round_no}: {len(lost)} acknowledged PATCHes lost: {sorted(lost)[:10]}"
        assert stored["mileage"] == by_version[max(by_version)]  # the state is its last event
    status, headers, _ = call(served.openflex, "PATCH", f"/vehicles/{VEHICLE['id']}", KEYS["dms"],
                              {"mileage": 7})
    assert status == 200 and version(headers["etag"]) > max(answered)  # never an ETag already answered
    assert served.stop() == 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_9_during_creations_loses_no_acknowledged_vehicle_and_reissues_no_id(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    db = str(tmp_path / "crash.sqlite3") if backend == "sqlite" else request.getfixturevalue("postgres_url")
    served = start_serve(db)
    answered: dict[str, str] = {}  # id → VIN, every creation acknowledged
    for round_no in range(ROUNDS):
        ROUND[0] = round_no
        acks = load_until_killed(served, create)
        assert len(acks) >= 150, f"round {round_no}: the load never got going"
        for vehicle_id, vin in acks:
            assert answered.setdefault(vehicle_id, vin) == vin, f"id {vehicle_id} answered twice"
        served = start_serve(db)
        created = {e["vehicle_id"]: e["data"]["vin"] for e in feed(served.openflex)
                   if e["type"] == "vehicle.created"}
        lost = {i: v for i, v in answered.items() if created.get(i) != v}
        assert not lost, f"round {round_no}: {len(lost)} acknowledged creations lost: {sorted(lost)[:10]}"
        for vehicle_id in random.sample(sorted(answered), 20):
            status, _, stored = call(served.openflex, "GET", f"/vehicles/{vehicle_id}")
            assert (status, stored["vin"]) == (200, answered[vehicle_id])
    status, _, last = call(served.openflex, "POST", "/vehicles", body=CREATION)
    assert status == 201 and last["id"] not in answered and last["id"] > max(answered)
    assert served.stop() == 0
