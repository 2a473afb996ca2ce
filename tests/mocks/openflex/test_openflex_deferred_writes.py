"""PATCHes answered at once, their store write deferred (`Store.defer`), when the fake knows the
vehicle's current state: every reader of the store sees what was answered, every other writer
(a reservation, a settings change) comes after them, and the change feed keeps one event per
write in order. Over real HTTP, the store read with SQL beside it."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from icarflex.mocks.common.store import Store, loads
from icarflex.mocks.openflex.vehicles import version_of
from openflex_support import World


@pytest.fixture
def deferrals(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The keys of the writes deferred during the test (proof the deferred path ran)."""
    seen: list[Any] = []
    defer = Store.defer

    def spy(self: Store, key: Any, take: Any) -> None:
        seen.append(key)
        defer(self, key, take)
    monkeypatch.setattr(Store, "defer", spy)
    return seen


def stored(app: Flask, vehicle_id: str) -> tuple[int, dict[str, Any]]:
    row = app.extensions["icarflex"].backend.store.one(
        "SELECT version, doc FROM openflex_vehicles WHERE id = ?", (vehicle_id,))
    return row["version"], loads(row["doc"])


def test_every_answered_patch_is_in_the_store_for_the_next_reader(world: World, app: Flask,
                                                                   deferrals: list[Any]):
    vehicle = world.vehicle_in("ENTREE_PHYSIQUE", "MARCHAND")
    cursor = world.openflex.get("/events").ok()["next_cursor"]
    for mileage in range(10_000, 10_030):
        reply = world.dms.patch(f"/vehicles/{vehicle['id']}", {"mileage": mileage}).ok()
        version, doc = stored(app, vehicle["id"])  # read with SQL at once, written or not yet
        assert (version, doc["mileage"]) == (version_of(reply), mileage)
    assert ("vehicle", vehicle["id"]) in deferrals
    updates = [e for e in world.openflex.get(f"/events?after={cursor}&limit=1000").ok()["items"]
               if e["type"] == "vehicle.updated"]
    assert [e["data"]["changes"]["mileage"] for e in updates] == list(range(10_000, 10_030))


def test_a_reservation_between_answered_patches_loses_none_of_them(world: World, app: Flask,
                                                                     deferrals: list[Any]):
    vehicle = world.vehicle_in("ENTREE_PHYSIQUE", "MARCHAND")
    path = f"/vehicles/{vehicle['id']}"
    world.dms.patch(path, {"mileage": 21_000}).ok()
    world.dms.patch(path, {"mileage": 22_000}).ok()
    world.openflex.post(f"{path}/reservations", {
        "kind": "UNLIMITED", "blocks_sale": False, "blocks_publication": False}).ok(201)
    last = world.dms.patch(path, {"mileage": 23_000}).ok()
    world.dms.patch(path, {"mileage": 24_000}, headers={"If-Match": f'"{last["version_tag"]}"'}).ok()
    seen = world.openflex.get(path)
    body = seen.ok()
    assert (body["mileage"], [r["kind"] for r in body["reservations"]]) == (24_000, ["UNLIMITED"])
    version, doc = stored(app, vehicle["id"])
    assert (version, doc["mileage"]) == (version_of(body), 24_000)
    assert seen.headers["ETag"] == f'"{body["version_tag"]}"'
    assert deferrals


def test_a_settings_change_after_answered_patches_is_judged_with(world: World, app: Flask,
                                                                  deferrals: list[Any]):
    vehicle = world.vehicle_in("ENTREE_PHYSIQUE", "MARCHAND")
    path = f"/vehicles/{vehicle['id']}"
    world.dms.patch(path, {"mileage": 31_000}).ok()
    world.dms.patch(path, {"mileage": 32_000}).ok()  # the vehicle and the settings known current
    assert world.flip("mileage") is False
    refused = world.dms.patch(path, {"mileage": 33_000}).problem(403, "FIELD_NOT_MODIFIABLE")
    assert "mileage" in refused["fields"]
    assert stored(app, vehicle["id"])[1]["mileage"] == 32_000 == world.vehicle(vehicle["id"])["mileage"]
    assert world.flip("mileage") is True
    world.dms.patch(path, {"mileage": 34_000}).ok()
    world.dms.patch(path, {"mileage": 35_000}).ok()
    assert stored(app, vehicle["id"])[1]["mileage"] == 35_000
    assert deferrals


def test_a_write_landing_while_another_is_judged_makes_it_judged_again(world: World, app: Flask,
                                                                        monkeypatch: pytest.MonkeyPatch):
    """A PATCH known current is judged outside the state lock; another write of the vehicle landing
    meanwhile sends it back to be judged on the new state: both kept, in order, one version each."""
    vehicle = world.vehicle_in("ENTREE_PHYSIQUE", "MARCHAND")
    path = f"/vehicles/{vehicle['id']}"
    world.dms.patch(path, {"mileage": 61_000}).ok()
    known = world.dms.patch(path, {"mileage": 62_000}).ok()  # now known current: judged unlocked
    backend = app.extensions["icarflex"].backend
    judge, cut_in = type(backend)._judge, []

    def judged_while_another_lands(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not cut_in:
            cut_in.append(None)  # once: the write below is judged by this same function
            cut_in[0] = self.patch_vehicle("demo", "dms", vehicle["id"], {"mileage": 63_000})
        return judge(self, *args, **kwargs)
    monkeypatch.setattr(type(backend), "_judge", judged_while_another_lands)
    last = backend.patch_vehicle("demo", "dms", vehicle["id"], {"mileage": 64_000})
    assert [version_of(v) for v in (known, cut_in[0], last)] == [version_of(known) + i for i in range(3)]
    version, doc = stored(app, vehicle["id"])
    assert (last["mileage"], version, doc["mileage"]) == (64_000, version_of(last), 64_000)
    feed = world.openflex.get("/events?limit=1000").ok()["items"]
    assert [e["data"]["changes"].get("mileage") for e in feed if e["type"] == "vehicle.updated"][-4:] == [
        61_000, 62_000, 63_000, 64_000]
