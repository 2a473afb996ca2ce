"""Restart persistence: a new app on the same SQLite file (as `icarflex serve --db`) keeps every
vehicle, reservation, opportunity, event and settings overlay; ids are never reused."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import requests
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.common.store import StoreRefused
from icarflex.mocks.openflex.app import create_app
from openflex_support import World, client_transport, http_transport


def served(db_path: Path):
    return LiveServer(create_app({"DB": str(db_path), "TESTING": True}), threads=2)


def state(world: World) -> tuple:
    return (world.openflex.get("/vehicles").ok(), world.openflex.get("/events").ok(),
            world.openflex.get("/settings/api-vo").ok(), world.openflex.get("/opportunities/OPP-000001").ok())


def test_a_restart_on_the_same_db_keeps_everything(tmp_path: Path):
    db = tmp_path / "demo.sqlite3"
    with served(db) as server, requests.Session() as session:
        world = World(http_transport(server.url, session))
        vehicle = world.vehicle_in("ENTREE_PHYSIQUE", "MARCHAND")
        world.openflex.post(f"/vehicles/{vehicle['id']}/reservations", {
            "kind": "UNLIMITED", "blocks_sale": True, "blocks_publication": True}).ok(201)
        world.openflex.post("/opportunities", {"customer": {"name": "A"}}).ok(201)
        world.admin.put("/settings/api-vo", {"capabilities": {"create_vehicles": True}}).ok()
        before = state(world)
    with served(db) as server, requests.Session() as session:
        world = World(http_transport(server.url, session))
        assert state(world) == before
        assert world.vehicle(vehicle["id"])["reservations"][0]["kind"] == "UNLIMITED"
        again = world.create_vehicle(1)
        assert again["id"] > vehicle["id"]
        after = world.openflex.get("/events").ok()["items"]
        assert after[-1]["cursor"] > before[1]["items"][-1]["cursor"]


def test_a_reset_empties_the_state_but_never_reuses_ids(world: World):
    first = world.create_vehicle()
    world.admin.post("/__admin/reset").ok()
    assert world.openflex.get("/vehicles").ok()["items"] == []
    assert world.openflex.get("/events").ok()["items"] == []
    assert world.create_vehicle()["id"] != first["id"]


def test_a_write_through_another_app_on_the_same_file_is_seen_at_once(tmp_path: Path):
    """Two apps on one store (both fakes, two workers): each reads what the other committed."""
    db = str(tmp_path / "shared.sqlite3")
    first = World(client_transport(create_app({"DB": db, "TESTING": True}).test_client()))
    second = World(client_transport(create_app({"DB": db, "TESTING": True}).test_client()))
    vehicle = first.vehicle_in("ENTREE_PHYSIQUE", "MARCHAND")
    first.dms.patch(f"/vehicles/{vehicle['id']}", {"mileage": 12_000}).ok()
    assert first.vehicle(vehicle["id"])["mileage"] == 12_000  # now in first's cache
    written = second.dms.patch(f"/vehicles/{vehicle['id']}", {"mileage": 13_000}).ok()
    seen = first.openflex.get(f"/vehicles/{vehicle['id']}")
    assert seen.ok()["mileage"] == 13_000
    assert seen.headers["ETag"] == f'"{written["version_tag"]}"'


def test_a_store_of_icarflex_before_schema_versions_is_refused_naming_it(tmp_path: Path):
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as conn:  # the layout of icarflex 0.1: its tables, no icarflex_schema
        conn.execute("CREATE TABLE openflex_vehicles (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT)")
    with pytest.raises(StoreRefused, match="icarflex 0.1"):
        create_app({"DB": str(db), "TESTING": True})
    with sqlite3.connect(db) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == [
            "openflex_vehicles", "sqlite_sequence"]
