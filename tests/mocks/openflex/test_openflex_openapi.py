"""GET /openapi.json: generated from the models that validate, equal to the checked-in
contracts/openapi/openflex.json, one operationId per service method, links for stateful runs."""
from __future__ import annotations

import json

from icarflex.contracts import load_contract
from icarflex.mocks.openflex.app import OPENAPI_PATH
from icarflex.mocks.openflex.service import OpenFlexService
from openflex_support import World

REGENERATE = "python -m icarflex.mocks.openapi"


def test_the_checked_in_openapi_document_is_the_served_one(world: World):
    served = world.as_key(None).get("/openapi.json").ok()
    checked_in = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    assert served == checked_in, f"{OPENAPI_PATH} is stale: run `{REGENERATE}` and review the diff"


def test_every_operation_is_a_service_method_of_the_same_name(world: World):
    document = world.as_key(None).get("/openapi.json").ok()
    ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert all(callable(getattr(OpenFlexService, name, None)) for name in ids), ids


def test_the_vehicle_schema_carries_every_contract_field_with_its_type(world: World):
    schemas = world.as_key(None).get("/openapi.json").ok()["components"]["schemas"]
    contract = load_contract()
    for name, spec in contract.vehicle.fields.items():
        prop = schemas["Vehicle"]["properties"][name]
        types = {branch.get("type") for branch in prop.get("anyOf", [prop])} - {"null"}
        expected = {"enum": "string", "date": "string"}.get(spec.type, spec.type)
        assert expected in types or any("enum" in b for b in prop.get("anyOf", [])), (name, prop)
        for body in ("VehicleCreate", "VehiclePatch", "TradeInEstimate"):
            assert name in schemas[body]["properties"], (body, name)
    assert schemas["VehicleCreate"]["required"] == list(contract.vehicle.required_at_creation)
    assert schemas["VehicleCreate"]["additionalProperties"] is False


def test_links_chain_create_get_and_patch(world: World):
    paths = world.as_key(None).get("/openapi.json").ok()["paths"]
    created = paths["/api/v1/vehicles"]["post"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in created.values()} >= {"get_vehicle", "patch_vehicle"}
    read = paths["/api/v1/vehicles/{vehicle_id}"]["get"]["responses"]["200"]["links"]
    assert read["PatchVehicleIfMatch"]["parameters"]["header.If-Match"] == "$response.header.ETag"
    patch = paths["/api/v1/vehicles/{vehicle_id}"]["patch"]["requestBody"]["content"]
    assert set(patch) == {"application/merge-patch+json", "application/json"}
