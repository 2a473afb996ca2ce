"""Bad bodies over real HTTP (waitress on loopback): malformed JSON, binary, wrong types, unknown
fields, NaN, a body over MAX_CONTENT_LENGTH — each answered 4xx problem+json naming what is
wrong, and the state (vehicles, reservations, events, settings of both dealers) untouched."""
from __future__ import annotations

import json

import pytest
from icarflex.contracts import load_contract
from icarflex.mocks.openflex.routes import build_api
from openflex_support import World

BODY_OPERATIONS = [op for op in build_api(load_contract()).operations if op.body is not None]
ACTOR_FOR = {"admin": "admin", "openflex_user": "openflex_user", "mobile_app": "mobile_app"}
JSON = {"Content-Type": "application/json"}
LIMIT = 256 * 1024  # config MAX_CONTENT_LENGTH (default)


def prepared(world: World, op) -> tuple[str, object]:
    """The operation's real path (ids of existing resources) and a caller allowed to make it."""
    vehicle = world.create_vehicle()
    reservation = world.openflex.post(f"/vehicles/{vehicle['id']}/reservations", {
        "kind": "UNLIMITED", "blocks_sale": False, "blocks_publication": True}).ok(201)
    opportunity = world.openflex.post("/opportunities", {"customer": {"name": "A"}}).ok(201)
    path = (op.path.replace("<vehicle_id>", vehicle["id"]).replace("<reservation_id>", reservation["id"])
            .replace("<opportunity_id>", opportunity["id"]))
    actor = next(a for a in ("openflex_user", "admin", "mobile_app") if not op.actors or a in op.actors)
    return path, world.as_actor(actor)


CASES = {
    "malformed-json": (b'{"mileage": 12', JSON, 400, "VALIDATION_ERROR", "(body)"),
    "binary-as-json": (bytes(range(256)), JSON, 400, "VALIDATION_ERROR", "(body)"),
    "binary": (bytes(range(256)), {"Content-Type": "application/octet-stream"}, 415, "VALIDATION_ERROR",
               "Content-Type"),
    "no-content-type": (b'{}', {}, 415, "VALIDATION_ERROR", "Content-Type"),
    "array": (b"[1, 2]", JSON, 422, "VALIDATION_ERROR", "(body)"),
    "string": (b'"texte"', JSON, 422, "VALIDATION_ERROR", "(body)"),
    "nan": (b'{"x": NaN}', JSON, 400, "VALIDATION_ERROR", "(body)"),
    "unknown-field": (b'{"champ_inconnu": 1}', JSON, 422, "VALIDATION_ERROR", "champ_inconnu"),
    "too-large": (b'{"comment": "' + b"x" * LIMIT + b'"}', JSON, 413, "PAYLOAD_TOO_LARGE", None),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("op", BODY_OPERATIONS, ids=lambda op: op.operation_id)
def test_a_bad_body_is_a_problem_and_changes_nothing(world: World, op, case: str):
    path, caller = prepared(world, op)
    data, headers, status, code, field = CASES[case]
    before = world.snapshot(("demo", "demo2"))
    problem = caller(op.method, path, data=data, headers=headers).problem(status, code)
    if field:
        assert field in problem["fields"], problem
    assert world.snapshot(("demo", "demo2")) == before


def wrong_values(op) -> list[tuple[str, object]]:
    """For each property of the body, a value of no JSON type it accepts."""
    return [(name, [[True]]) for name in op.body.model_fields]


WRONG = [(op, name, value) for op in BODY_OPERATIONS for name, value in wrong_values(op)]


@pytest.mark.parametrize(("op", "name", "value"), WRONG, ids=[f"{o.operation_id}-{n}" for o, n, _ in WRONG])
def test_a_wrong_type_is_refused_naming_the_field(client_world: World, op, name: str, value: object):
    world = client_world
    path, caller = prepared(world, op)
    before = world.snapshot()
    problem = caller(op.method, path, data=json.dumps({name: value}), headers=JSON).problem(422,
                                                                                            "VALIDATION_ERROR")
    assert any(f == name or f.startswith(f"{name}.") for f in problem["fields"]), problem
    assert world.snapshot() == before


@pytest.mark.parametrize(("field", "value"), [("mileage", "12000"), ("mileage", 1.5), ("mileage", True),
                                              ("vat_recoverable", "true"), ("sale_price", "10"),
                                              ("first_registration_date", 20200101),
                                              ("first_registration_date", "01/02/2020"),
                                              ("vin", "VF1ABCDEFGHIJKLMO"), ("registration", "AB123CD"),
                                              ("destination", "particulier"), ("mileage", -1)])
def test_a_value_the_contract_types_refuse_is_not_coerced(client_world: World, field: str, value: object):
    world = client_world
    vehicle = world.create_vehicle()
    problem = world.openflex.patch(f"/vehicles/{vehicle['id']}", {field: value}).problem(422,
                                                                                         "VALIDATION_ERROR")
    assert problem["fields"] == [field]
    assert world.vehicle(vehicle["id"]) == vehicle


def test_a_chunked_body_over_the_limit_is_refused(world: World):
    before = world.snapshot()
    chunks = (b"x" * 65536 for _ in range(8))
    answer = world.openflex("POST", "/vehicles", data=chunks, headers=JSON)
    assert answer.status in (400, 413) and answer.content_type == "application/problem+json"
    assert world.snapshot() == before


def test_flask_own_errors_are_problems_too(world: World):
    world.openflex.get("/nowhere").problem(404, "NOT_FOUND")
    answer = world.openflex("DELETE", "/vehicles")
    answer.problem(405, "METHOD_NOT_ALLOWED")
    assert "GET" in answer.headers["Allow"]


def test_a_refused_body_is_journaled_with_its_verdict(world: World):
    vehicle = world.create_vehicle()
    world.dms.patch(f"/vehicles/{vehicle['id']}", {"vin": world.reference(8)["vin"]}).problem(
        403, "FIELD_NOT_MODIFIABLE")
    world.openflex("POST", "/vehicles", data=bytes(range(256)), headers=JSON).problem(400, "VALIDATION_ERROR")
    entries = world.admin.get("/__admin/journal").ok()["items"]
    refused, binary = entries[-2:]
    assert (refused["status"], refused["actor"], refused["vehicle_id"]) == (403, "dms", vehicle["id"])
    assert refused["vehicle_before"] == vehicle and [v["rule"] for v in refused["verdict"]] == ["R6"]
    assert binary["status"] == 400 and "_raw" in binary["request"]
