"""The ICAR fake validates with the contract it is given (`create_app(contract=…)`, kept in
`app.extensions`), never with one loaded at import: a contract whose mileage bound differs
types the app's requests and its OpenAPI document alike."""
from __future__ import annotations

import shutil
from pathlib import Path

from icarflex.contracts import load_contract
from icarflex.contracts.models import DATA_DIR
from icarflex.mocks.icar.app import create_app

DMS_USER = {"Authorization": "Bearer demo-icar-key"}


def contract_with_mileage_up_to(tmp_path: Path, maximum: int):  # noqa: ANN201 - a Contract
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    vehicle = data / "vehicle.yaml"
    text = vehicle.read_text(encoding="utf-8")
    default = "mileage: {type: integer, minimum: 0, maximum: 2000000}"
    assert default in text
    vehicle.write_text(text.replace(default, f"mileage: {{type: integer, minimum: 0, maximum: {maximum}}}"),
                       encoding="utf-8")
    return load_contract(data)


def test_the_app_validates_with_the_contract_it_is_given(tmp_path: Path) -> None:
    contract = contract_with_mileage_up_to(tmp_path, 300_000)
    app = create_app({"DB": str(tmp_path / "icar.sqlite3")}, contract=contract)
    client = app.test_client()
    schema = client.get("/openapi.json").json["components"]["schemas"]["PhysicalEntryRequest"]
    assert schema["properties"]["mileage"]["maximum"] == 300_000
    unknown = "0123456789abcdef0123456789abcdef"  # body validation comes before the record's lookup
    reply = client.post(f"/api/v1/vehicles/{unknown}/physical-entry", json={"mileage": 400_000},
                        headers=DMS_USER)
    assert reply.status_code == 422 and reply.json["fields"] == ["mileage"], reply.json
    default = create_app({"DB": str(tmp_path / "default.sqlite3")}).test_client()
    assert default.get("/openapi.json").json["components"]["schemas"]["PhysicalEntryRequest"][
        "properties"]["mileage"]["maximum"] == load_contract().vehicle.fields["mileage"].maximum
    app.extensions["icarflex"].store.close()
