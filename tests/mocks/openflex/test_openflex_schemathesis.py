"""Schemathesis on the in-process app (`from_wsgi`): every operation of /openapi.json, as the
OpenFlex user and as the DMS, with no server error and no response off its schema or status
list; plus a stateful run through the OpenAPI links (create -> get -> patch, reserve -> lift).
TESTING is on, so a server error raises out of the app and fails the test."""
from __future__ import annotations

from pathlib import Path

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from icarflex.contracts import load_contract
from icarflex.mocks.openflex.app import create_app
from icarflex.mocks.openflex.routes import build_api
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
SETTINGS = hypothesis.settings(max_examples=12, deadline=None, derandomize=True, database=None,
                               suppress_health_check=list(hypothesis.HealthCheck))


def fresh_schema(directory: Path) -> tuple[object, dict[str, str]]:
    """The schema of a fresh app with seeded data, and ids of existing resources for path parameters."""
    app = create_app({"DB": str(directory / "openflex.sqlite3"), "TESTING": True})
    client = app.test_client()

    def call(method: str, path: str, body: dict, key: str = "demo-openflex-key") -> dict:
        return client.open(path, method=method, json=body,
                           headers={"Authorization": f"Bearer {key}"}).get_json()

    vehicle_id = call("POST", "/__admin/seed", {"count": 6, "seed": 1}, "demo-admin-key")["vehicles"][0]
    reservation = call("POST", f"/api/v1/vehicles/{vehicle_id}/reservations",
                       {"kind": "UNLIMITED", "blocks_sale": False, "blocks_publication": True})
    opportunity = call("POST", "/api/v1/opportunities", {"customer": {"name": "Client"}})
    ids = {"vehicle_id": vehicle_id, "reservation_id": reservation["id"], "opportunity_id": opportunity["id"]}
    return schemathesis.openapi.from_wsgi("/openapi.json", app), ids


def operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("key", ["demo-openflex-key", "demo-dms-key"], ids=["openflex_user", "dms"])
def test_every_operation_answers_within_its_schema(tmp_path: Path, key: str, mode: GenerationMode):
    """Each operation driven by hypothesis (the plugin's lazy loader does not run under this pytest);
    valid cases aim at existing resources half of the time, so their bodies reach the backend."""
    schema, ids = fresh_schema(tmp_path)
    tested = []
    for operation in operations(schema):
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode), real_ids=st.booleans())
        @SETTINGS
        def check(case, real_ids: bool) -> None:
            if real_ids and mode is GenerationMode.POSITIVE and case.path_parameters:
                case.path_parameters = {name: ids[name] for name in case.path_parameters}
            case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)

        check()
        tested.append(operation.label)
    assert len(tested) == len(build_api(load_contract()).operations)


def test_stateful_runs_through_the_links(tmp_path: Path):
    machine = fresh_schema(tmp_path)[0].as_state_machine()

    class Workflow(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": "Bearer demo-openflex-key"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None,
                                   recorder=self.recorder)

    Workflow.run(settings=hypothesis.settings(max_examples=15, stateful_step_count=6, deadline=None,
                                              derandomize=True, database=None,
                                              suppress_health_check=list(hypothesis.HealthCheck)))
