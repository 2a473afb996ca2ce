"""kill -9 of `icarflex serve` during ICAR physical entries, as real processes, several rounds.

Concurrent DMS clients book physical entries while OpenFlex answers the connector's pushes
slowly (injected latency), so several entries are in flight — recorded in ICAR's outbox,
pushed or not — when the process is killed. After each restart and the documented recovery
call (`POST /api/v1/outbox/resume`; after a start, the fake pushes open operations again by itself,
and that is checked first), checked from outside, over HTTP:
- no split state: every record has ICAR and OpenFlex in mapped statuses with the same
  police number, and no operation is left open;
- no acknowledged entry lost: every entry answered 200 is in STOCK with the number answered;
- the livre de police of the site is gapless (lines 1..n), with no duplicate number, and
  every line is the entry of exactly one record, booked with that number in both systems.
A last round books every entry the kills cut: none takes a number out of order.
"""
from __future__ import annotations

import queue
import signal
import subprocess
import threading
import time

import requests
from icar_processes import ADMIN_KEY, LIFE, Client, check_register, serving, take_in

ROUNDS, NEW_PER_ROUND, CLIENTS = 3, 12, 6
SITE = "PARIS16"


def enter_concurrently(urls: dict[str, str], records: list[str], acknowledged: dict[str, str],
                       kill: subprocess.Popen[str] | None) -> None:
    """Book the entries from CLIENTS threads; with `kill`, kill -9 it once a few were answered."""
    todo: queue.Queue[str] = queue.Queue()
    for record_id in records:
        todo.put(record_id)
    answered = threading.Semaphore(0)

    def work() -> None:
        client = Client(urls)
        while True:
            try:
                record_id = todo.get_nowait()
            except queue.Empty:
                return
            try:
                reply = client.icar("POST", f"/vehicles/{record_id}/physical-entry", {"mileage": 50_000})
            except requests.RequestException:
                return  # the server is gone: this entry is in flight, or never began
            if reply.status_code == 200:
                acknowledged[record_id] = reply.json()["police_number"]
                answered.release()

    threads = [threading.Thread(target=work) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    if kill is not None:
        for _ in range(min(4, len(records) // 3)):
            assert answered.acquire(timeout=60), "no entry answered"
        kill.send_signal(signal.SIGKILL)
        kill.wait(10)
    for thread in threads:
        thread.join(60)


def wait_until_settled(client: Client, seconds: float = 30) -> bool:
    """After a start, the fake pushes again what a crash left open, set going by its first call
    (here, the reads of this wait): wait for it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not client.icar("GET", "/outbox?state=PENDING&limit=1").json()["items"]:
            return True
        time.sleep(0.1)
    return False


def check_both_systems_agree(client: Client, pairs: list[tuple[str, str]],
                             acknowledged: dict[str, str]) -> set[str]:
    """The checks of the module's docstring; the records in STOCK."""
    open_ops = [op for state in ("PENDING", "FAILED")
                for op in client.icar("GET", f"/outbox?state={state}&limit=1000").json()["items"]]
    assert open_ops == [], "operations left open after the recovery"
    booked = check_register(client, SITE)
    in_stock = set()
    for openflex_id, record_id in pairs:
        dms = client.icar("GET", f"/vehicles/{record_id}").json()
        vehicle = client.openflex("GET", f"/vehicles/{openflex_id}").json()
        pair = (dms["status"], vehicle["status"], dms["police_number"], vehicle.get(LIFE.police_field))
        if dms["status"] == LIFE.stock:
            assert pair == (LIFE.stock, LIFE.physical_entry, booked[record_id], booked[record_id]), pair
            in_stock.add(record_id)
        else:
            assert pair == (LIFE.arrival, LIFE.openflex_entry, None, None), pair
            assert record_id not in booked
        if record_id in acknowledged:  # answered 200 before the kill: never lost
            assert (dms["status"], dms["police_number"]) == (LIFE.stock, acknowledged[record_id])
    return in_stock


def test_kill_9_during_physical_entries_leaves_both_systems_agreeing(store_url: str) -> None:
    db = store_url  # a SQLite file, then a PostgreSQL database (tests/conftest.py)
    pairs: list[tuple[str, str]] = []
    acknowledged: dict[str, str] = {}
    in_stock: set[str] = set()
    for round_ in range(ROUNDS):
        with serving(db) as (proc, urls):
            client = Client(urls)
            pairs += take_in(client, round_ * NEW_PER_ROUND, NEW_PER_ROUND)
            waiting = [record_id for _, record_id in pairs if record_id not in in_stock]
            slow = {"latency_ms": 120, "methods": ["PATCH"]}  # pushes in flight when the kill comes
            client.openflex("PUT", "/__admin/faults", slow, key=ADMIN_KEY)
            enter_concurrently(urls, waiting, acknowledged, kill=proc)
        with serving(db) as (proc, urls):
            client = Client(urls)
            assert wait_until_settled(client), "the start did not push the open operations again"
            resumed = client.icar("POST", "/outbox/resume")  # the documented recovery, run anyway
            assert resumed.status_code == 200, resumed.text
            in_stock = check_both_systems_agree(client, pairs, acknowledged)
    # Entries cut in flight were completed by the recovery, with the number recorded before the kill.
    assert in_stock - set(acknowledged), "no entry was in flight at any kill: the test proved nothing"
    with serving(db) as (proc, urls):  # the entries the kills cut before they began: in order, no gap
        client = Client(urls)
        enter_concurrently(urls, [r for _, r in pairs if r not in in_stock], acknowledged, kill=None)
        assert check_both_systems_agree(client, pairs, acknowledged) == {r for _, r in pairs}
