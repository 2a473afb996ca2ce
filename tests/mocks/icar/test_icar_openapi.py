"""The published OpenAPI document: checked in, and honoured by the app (schemathesis)."""
from __future__ import annotations

import json
import socket

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.icar import openapi
from icarflex.mocks.icar.app import create_app
from icarflex.mocks.openflex.app import create_app as create_openflex


def test_checked_in_openapi_matches_the_app():
    app = create_app()
    served = app.test_client().get("/openapi.json").get_json()
    checked_in = json.loads(openapi.CHECKED_IN.read_text(encoding="utf-8"))
    assert served == checked_in, (f"{openapi.CHECKED_IN} is stale: regenerate it with "
                                  f"`{openapi.REGENERATE}` and commit the result")


def test_upstream_errors_are_documented_on_every_operation_that_calls_openflex():
    doc = create_app().test_client().get("/openapi.json").get_json()
    calling = [op for path in doc["paths"].values() for op in path.values()
               if {"502", "504"} <= set(op["responses"])]
    assert {op["operationId"] for op in calling} == {
        "match_vehicle", "book_physical_entry", "add_frevo_line", "update_vehicle", "write_openflex_fields",
        "create_invoice", "replay_sync_entry"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# schemathesis parametrizes at collection, so the app under test is built here, its
# connector aimed at a port reserved now, where the fixture below serves OpenFlex.
OPENFLEX_PORT = free_port()
APP = create_app({"OPENFLEX_URL": f"http://127.0.0.1:{OPENFLEX_PORT}", "SYNC_TIMEOUT": 2.0,
                  "SYNC_RETRIES": 1, "SYNC_BACKOFF": 0.01})
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)


@schema.auth()
class IcarUser:
    """Every generated request as the demo DMS user; schemathesis also checks it is required."""

    def get(self, case, context):  # noqa: ANN001, ANN201
        return "demo-icar-key"

    def set(self, case, data, context):  # noqa: ANN001, ANN201
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture(scope="module", autouse=True)
def openflex_on_reserved_port(tmp_path_factory):
    app = create_openflex({"DB": str(tmp_path_factory.mktemp("openflex-st") / "openflex.sqlite3")})
    with LiveServer(app, port=OPENFLEX_PORT) as server:
        yield server


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_icar_api_conforms_to_its_schema(case):
    case.call_and_validate()
