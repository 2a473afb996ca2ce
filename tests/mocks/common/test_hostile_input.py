"""Hostile bodies over real HTTP, on both fakes: every limit answers a 4xx problem naming it,
and leaves the state as it was (issue 15).

Deep nesting and oversized bodies on every operation that takes a body (read from each fake's
own `Api`, admin bodies included), a number no double holds pushed through the ICAR fake,
admin bodies refused where they would be coerced, and a body naming a missing resource
answered 409, never the 404 that means the URL's own resource is unknown.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from icarflex.mocks.common.api import flask_path_to_openapi
from icarflex.mocks.common.bodies import MAX_JSON_DEPTH
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.icar.app import create_app as create_icar
from icarflex.mocks.openflex.app import create_app as create_openflex

KEYS = {"mobile_app": "demo-mobile-key", "openflex_user": "demo-openflex-key", "dms": "demo-dms-key",
        "admin": "demo-admin-key", "icar_user": "demo-icar-key"}
ADMIN_BODIES = [("PUT", "/__admin/faults"), ("POST", "/__admin/seed"), ("PUT", "/__admin/settings/demo")]
RECORD_ID = "0" * 32  # the shape of an ICAR record id, so the route matches
SAMPLE_IDS = {"id": RECORD_ID}


class Fakes:
    def __init__(self, openflex: LiveServer, icar: LiveServer) -> None:
        self.url = {"openflex": openflex.url, "icar": icar.url}
        self.app = {"openflex": openflex.app, "icar": icar.app}
        self.session = requests.Session()

    def send(self, system: str, method: str, path: str, key: str = "demo-admin-key", *,
             data: str | bytes | None = None, json: Any = None,
             headers: dict[str, str] | None = None) -> requests.Response:
        head = {"Authorization": f"Bearer {key}", **(headers or {})}
        if data is not None:
            head.setdefault("Content-Type", "application/json")
        return self.session.request(method, self.url[system] + path, data=data, json=json,
                                    headers=head, timeout=30)

    def body_operations(self, system: str) -> list[tuple[str, str, str]]:
        """(method, concrete path, key of an actor allowed to call it), for every body it takes."""
        api = self.app[system].extensions["icarflex"].api
        out = []
        for op in api.operations:
            if op.body is None:
                continue
            path = api.prefix + flask_path_to_openapi(op.path)
            for name in ("vehicle_id", "opportunity_id", "reservation_id", "id"):
                path = path.replace("{" + name + "}", SAMPLE_IDS.get(name, "X-1"))
            out.append((op.method, path, KEYS[op.actors[0]] if op.actors else KEYS["openflex_user"]))
        settings = hasattr(self.app[system].extensions["icarflex"].backend, "put_settings")
        return out + [(method, path, KEYS["admin"]) for method, path in ADMIN_BODIES
                      if settings or "settings" not in path]

    def events(self) -> int:
        reply = self.send("openflex", "GET", "/api/v1/events?limit=1000", KEYS["openflex_user"])
        return len(reply.json()["items"])


@pytest.fixture(scope="module")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fakes]:
    folder: Path = tmp_path_factory.mktemp("hostile")
    openflex_app = create_openflex({"DB": str(folder / "openflex.sqlite3")})
    with LiveServer(openflex_app, threads=4) as openflex:
        icar_app = create_icar({"DB": str(folder / "icar.sqlite3"), "OPENFLEX_URL": openflex.url,
                                "SYNC_TIMEOUT": 2.0, "SYNC_RETRIES": 1, "SYNC_BACKOFF": 0.01})
        with LiveServer(icar_app, threads=4) as icar:
            yield Fakes(openflex, icar)


def nested(depth: int) -> str:
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


def assert_limit(reply: requests.Response, status: int, limit: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["Content-Type"] == "application/problem+json"
    problem = reply.json()
    assert problem["limit"]["name"] == limit, problem
    assert limit in problem["detail"]
    return problem


@pytest.mark.parametrize("system", ["openflex", "icar"])
def test_deep_json_is_refused_naming_the_depth_limit_on_every_body(fakes: Fakes, system: str):
    before = fakes.events()
    operations = fakes.body_operations(system)
    assert len(operations) >= 7
    for method, path, key in operations:
        for depth in (MAX_JSON_DEPTH + 1, 1_024, 20_000):
            reply = fakes.send(system, method, path, key, data=nested(depth))
            problem = assert_limit(reply, 422, "max_json_depth")
            assert problem["limit"]["value"] == MAX_JSON_DEPTH, (method, path)
        reply = fakes.send(system, method, path, key, data='{"x":' + "[" * 50_000 + "]" * 50_000 + "}")
        assert_limit(reply, 422, "max_json_depth")
    assert fakes.events() == before


def test_depth_up_to_the_limit_reaches_validation(fakes: Fakes):
    reply = fakes.send("openflex", "POST", "/api/v1/opportunities", KEYS["openflex_user"],
                       data='{"customer":' + nested(MAX_JSON_DEPTH - 1) + "}")
    assert reply.status_code == 422, reply.text
    assert "limit" not in reply.json() and reply.json()["fields"][0].startswith("customer")


@pytest.mark.parametrize("system", ["openflex", "icar"])
def test_a_body_over_the_size_limit_is_refused_naming_it(fakes: Fakes, system: str):
    limit = fakes.app[system].config["MAX_CONTENT_LENGTH"]
    for method, path, key in fakes.body_operations(system)[:3]:
        reply = fakes.send(system, method, path, key, data='{"a":"' + "x" * limit + '"}')
        problem = assert_limit(reply, 413, "max_content_length")
        assert problem["limit"]["value"] == limit


def _record_in_stock(fakes: Fakes) -> tuple[str, str]:
    """An OpenFlex vehicle and its ICAR record, matched and booked in (mileage 42,100)."""
    ref = fakes.send("openflex", "GET", "/api/v1/reference/vehicles?limit=1", KEYS["openflex_user"])
    vin = ref.json()["items"][0]["vin"]
    created = fakes.send("openflex", "POST", "/api/v1/vehicles", KEYS["openflex_user"], json={
        "vin": vin, "destination": "PARTICULIER", "origin": "PARTICULIER", "purchase_source": "REPRISE",
        "mileage": 42_000})
    assert created.status_code == 201, created.text
    record = fakes.send("icar", "POST", "/api/v1/vehicles/match", KEYS["icar_user"],
                        json={"openflex_id": created.json()["id"]})
    assert record.status_code == 201, record.text
    entry = fakes.send("icar", "POST", f"/api/v1/vehicles/{record.json()['id']}/physical-entry",
                       KEYS["icar_user"], json={"mileage": 42_100})
    assert entry.status_code == 200, entry.text
    return created.json()["id"], record.json()["id"]


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1E999", "9007199254740993", "-18446744073709551616",
                                    "123456789012345678901234567890"])
def test_a_number_out_of_range_pushed_through_icar_changes_nothing_in_openflex(fakes: Fakes, number: str):
    vehicle_id, record_id = _record_in_stock(fakes)
    calls = len(fakes.send("icar", "GET", "/api/v1/sync-log?limit=1000", KEYS["icar_user"]).json()["items"])
    reply = fakes.send("icar", "POST", f"/api/v1/vehicles/{record_id}/openflex-writes", KEYS["icar_user"],
                       data='{"fields": {"mileage": ' + number + "}}")
    problem = assert_limit(reply, 422, "json_number_range")
    assert problem["fields"] == ["fields.mileage"]
    vehicle = fakes.send("openflex", "GET", f"/api/v1/vehicles/{vehicle_id}", KEYS["openflex_user"]).json()
    assert vehicle["mileage"] == 42_100
    after = fakes.send("icar", "GET", "/api/v1/sync-log?limit=1000", KEYS["icar_user"]).json()["items"]
    assert len(after) == calls  # nothing was sent to OpenFlex


@pytest.mark.parametrize("number", ["1e400", "-1e400"])
def test_a_number_out_of_range_is_refused_on_the_openflex_api_too(fakes: Fakes, number: str):
    reply = fakes.send("openflex", "POST", "/api/v1/vehicles", KEYS["openflex_user"],
                       data='{"destination": "CASSE", "origin": "PARTICULIER", "purchase_source": "REPRISE", '
                            '"trade_in_price": ' + number + "}")
    assert assert_limit(reply, 422, "json_number_range")["fields"] == ["trade_in_price"]


def test_a_whole_number_written_with_a_fraction_is_that_integer(fakes: Fakes):
    vehicle_id, _ = _record_in_stock(fakes)
    reply = fakes.send("openflex", "PATCH", f"/api/v1/vehicles/{vehicle_id}", KEYS["dms"],
                       data='{"mileage": 50000.0}', headers={"Content-Type": "application/merge-patch+json"})
    assert (reply.status_code, reply.json()["mileage"]) == (200, 50_000), reply.text
    reply = fakes.send("openflex", "PATCH", f"/api/v1/vehicles/{vehicle_id}", KEYS["dms"],
                       data='{"mileage": 50000.5}', headers={"Content-Type": "application/merge-patch+json"})
    assert (reply.status_code, reply.json()["fields"]) == (422, ["mileage"])


@pytest.mark.parametrize("system", ["openflex", "icar"])
@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("PUT", "/__admin/faults", {"latency_ms": "12"}, "latency_ms"),
    ("PUT", "/__admin/faults", {"error_rate": "0.5"}, "error_rate"),
    ("PUT", "/__admin/faults", {"count": True}, "count"),
    ("POST", "/__admin/seed", {"count": "2"}, "count"),
    ("POST", "/__admin/seed", {"seed": 1.5}, "seed"),
])
def test_admin_bodies_are_not_coerced(fakes: Fakes, system: str, method: str, path: str, body: dict,
                                      field: str):
    faults_before = fakes.send(system, "GET", "/__admin/faults").json()
    reply = fakes.send(system, method, path, json=body)
    assert (reply.status_code, reply.json()["code"], reply.json()["fields"]) == (
        422, "VALIDATION_ERROR", [field]), reply.text
    assert fakes.send(system, "GET", "/__admin/faults").json() == faults_before


def test_admin_settings_refuse_what_the_business_settings_refuse(fakes: Fakes):
    before = fakes.send("openflex", "GET", "/__admin/settings/demo").json()
    for body in ({"settings": None, "fields": None, "capabilities": None},
                 {"settings": {"uc_price_editable": "false"}},
                 {"fields": {"mileage": {"dms_modifiable": 0}}}):
        admin = fakes.send("openflex", "PUT", "/__admin/settings/demo", json=body)
        business = fakes.send("openflex", "PUT", "/api/v1/settings/api-vo", json=body)
        assert admin.status_code == business.status_code == 422, (body, admin.text, business.text)
        assert admin.json()["fields"] == business.json()["fields"]
    assert fakes.send("openflex", "GET", "/__admin/settings/demo").json() == before


def test_admin_settings_still_merge_a_valid_overlay(fakes: Fakes):
    reply = fakes.send("openflex", "PUT", "/__admin/settings/demo2",
                       json={"settings": {"uc_price_editable": False}})
    assert (reply.status_code, reply.json()["settings"]["uc_price_editable"]) == (200, False), reply.text
    fakes.send("openflex", "PUT", "/__admin/settings/demo2", json={"settings": {"uc_price_editable": True}})


def test_an_order_naming_a_missing_vehicle_is_409_and_a_missing_opportunity_404(fakes: Fakes):
    user = KEYS["openflex_user"]
    opportunity = fakes.send("openflex", "POST", "/api/v1/opportunities", user,
                             json={"customer": {"name": "C"}})
    order = {"vehicle_id": "VEH-999999", "price": 9_000.0}
    reply = fakes.send("openflex", "POST", f"/api/v1/opportunities/{opportunity.json()['id']}/order", user,
                       json=order)
    assert (reply.status_code, reply.json()["code"], reply.json()["fields"]) == (
        409, "CONFLICT", ["vehicle_id"]), reply.text
    reply = fakes.send("openflex", "POST", "/api/v1/opportunities/OPP-999999/order", user, json=order)
    assert (reply.status_code, reply.json()["code"]) == (404, "NOT_FOUND"), reply.text


def test_a_match_naming_a_vehicle_unknown_to_openflex_is_409(fakes: Fakes):
    for body, field in (({"openflex_id": "VEH-999999"}, "openflex_id"),
                        ({"vin": "XXX1234567ABCDEFG"}, "vin")):
        reply = fakes.send("icar", "POST", "/api/v1/vehicles/match", KEYS["icar_user"], json=body)
        problem = reply.json()
        assert (reply.status_code, problem["code"], problem["fields"]) == (409, "CONFLICT", [field])
