"""A shared sandbox: two `icarflex serve` processes, each with two workers, on one store, under
concurrent load (as behind a load balancer), on PostgreSQL and on SQLite.

Eight clients read-modify-write one vehicle with If-Match through both processes, four more
create vehicles through both, and a poller follows the change feed while they write: no
update is lost, every id is unique, and the poller, reading the feed as it grows, sees every
event in order (none committed behind its cursor).
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from serving import CREATION, KEYS, Client, call, feed, start_serve

WRITERS, CREATORS, ROUNDS = 8, 4, 25


def version(etag: str) -> int:
    return int(etag.strip('"').lstrip("v"))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_serve_processes_on_one_store_lose_no_update_and_issue_unique_ids(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    db = str(tmp_path / "shared.sqlite3") if backend == "sqlite" else request.getfixturevalue("postgres_url")
    servers = [start_serve(db, "--workers", "2"), start_serve(db, "--workers", "2")]
    try:
        urls = [s.openflex for s in servers]
        status, _, vehicle = call(urls[0], "POST", "/vehicles", body={**CREATION, "mileage": 0})
        assert status == 201, vehicle
        landed: list[int] = []      # the version of every PATCH answered 200
        created: list[str] = []
        seen: list[int] = []        # the cursors the poller read, in order
        done = threading.Event()
        lock = threading.Lock()

        def write(number: int) -> None:
            client = Client(urls[number % 2], KEYS["dms"])
            for _ in range(ROUNDS):
                while True:
                    _, headers, current = client.send("GET", f"/vehicles/{vehicle['id']}")
                    status, reply, body = client.send("PATCH", f"/vehicles/{vehicle['id']}",
                                                      {"mileage": current["mileage"] + 1},
                                                      {"If-Match": headers["etag"]})
                    if status == 200:
                        with lock:
                            landed.append(version(reply["etag"]))
                        break
                    assert status == 412, body
            client.close()

        def create(number: int) -> None:
            client = Client(urls[number % 2], KEYS["openflex_user"])
            for _ in range(ROUNDS):
                status, _, body = client.send("POST", "/vehicles", CREATION)
                assert status == 201, body
                with lock:
                    created.append(body["id"])
            client.close()

        def poll() -> None:
            client, after = Client(urls[1], KEYS["openflex_user"]), 0
            while True:
                last_round = done.is_set()
                _, _, page = client.send("GET", f"/events?after={after}&limit=1000")
                seen.extend(e["cursor"] for e in page["items"])
                after = page["next_cursor"]
                if last_round and not page["items"]:
                    break
            client.close()

        threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
        threads += [threading.Thread(target=create, args=(n,)) for n in range(CREATORS)]
        poller = threading.Thread(target=poll)
        poller.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
        done.set()
        poller.join(60)

        _, headers, final = call(urls[1], "GET", f"/vehicles/{vehicle['id']}")
        assert final["mileage"] == WRITERS * ROUNDS, "an If-Match update was lost"
        assert sorted(landed) == list(range(2, 2 + WRITERS * ROUNDS)), "a version answered twice or skipped"
        assert len(set(created)) == len(created) == CREATORS * ROUNDS
        events = feed(urls[0])
        cursors = [e["cursor"] for e in events]
        assert cursors == sorted(set(cursors))
        assert seen == cursors, "the poller skipped events committed behind its cursor"
        mileages = [e["data"]["changes"]["mileage"] for e in events
                    if e["type"] == "vehicle.updated" and e["vehicle_id"] == vehicle["id"]]
        assert mileages == list(range(1, WRITERS * ROUNDS + 1))  # the feed in the order of the writes
        assert {e["vehicle_id"] for e in events if e["type"] == "vehicle.created"} >= set(created)
    finally:
        for served in servers:
            assert served.stop() == 0
