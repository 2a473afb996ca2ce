"""The `icarflex_fakes` fixture inside this suite (the plugin is installed with the package):
each test its own dealer, its verdict counting refused forbidden writes, the profile and fault
helpers. The wheel test (tests/packaging) runs the same plugin from a built wheel."""
from __future__ import annotations

import requests

VEHICLE = {"vin": "VF1RFB00X56789012", "registration": "AB-123-CD", "destination": "PARTICULIER",
           "origin": "PARTICULIER", "mileage": 42000, "first_registration_date": "2019-03-01",
           "purchase_source": "ACHAT_DIRECT", "trade_in_price": 5000}


def call(fakes, method: str, path: str, actor: str, body: object = None) -> requests.Response:  # noqa: ANN001
    headers = {"Authorization": f"Bearer {fakes.keys[actor]}"}
    if method == "PATCH":
        headers["Content-Type"] = "application/merge-patch+json"
    return requests.request(method, f"{fakes.openflex_url}{path}", json=body, headers=headers, timeout=10)


def created(fakes) -> str:  # noqa: ANN001
    reply = call(fakes, "POST", "/api/v1/vehicles", "openflex_user", VEHICLE)
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def test_keys_are_the_test_s_own_dealer_s(icarflex_fakes) -> None:  # noqa: ANN001
    assert set(icarflex_fakes.keys) == {"mobile_app", "openflex_user", "dms", "icar_user"}
    assert all(key.startswith(icarflex_fakes.dealer) for key in icarflex_fakes.keys.values())
    assert "demo" not in icarflex_fakes.dealer
    assert call(icarflex_fakes, "GET", "/api/v1/vehicles", "openflex_user").json()["items"] == []


def test_an_accepted_forbidden_write_is_a_violation_too(icarflex_fakes) -> None:  # noqa: ANN001
    vehicle_id = created(icarflex_fakes)
    icarflex_fakes.set_profile({"settings": {"uc_car_management_activated": True}})  # DMS master: vin OK
    path = f"/api/v1/vehicles/{vehicle_id}"
    assert call(icarflex_fakes, "PATCH", path, "dms", {"vin": "VF1RFB00X56789099"}).status_code == 200
    assert icarflex_fakes.audit().ok  # under that parameterization, nothing forbidden
    icarflex_fakes.set_profile("guide-defaults")
    assert call(icarflex_fakes, "PATCH", f"/api/v1/vehicles/{vehicle_id}", "dms",
                {"registration": "ZZ-999-ZZ"}).status_code == 403
    verdict = icarflex_fakes.audit()
    assert not verdict.ok
    assert [(v.rule, v.field, v.label, v.refused) for v in verdict.violations] == [
        ("R6", "registration", "Immatriculation VO", True)]
    assert verdict.violations[0].request["body"] == {"registration": "ZZ-999-ZZ"}


def test_a_shipped_profile_by_name_and_a_fault(icarflex_fakes) -> None:  # noqa: ANN001
    vehicle_id = created(icarflex_fakes)
    icarflex_fakes.set_profile("locked-mileage")
    refused = call(icarflex_fakes, "PATCH", f"/api/v1/vehicles/{vehicle_id}", "dms", {"mileage": 43000})
    assert refused.status_code == 403
    assert [(v.rule, v.field) for v in icarflex_fakes.audit().violations] == [("R6", "mileage")]
    icarflex_fakes.inject_faults(error_rate=1.0, error_status=503, count=1)
    assert call(icarflex_fakes, "GET", f"/api/v1/vehicles/{vehicle_id}", "openflex_user").status_code == 503
    assert call(icarflex_fakes, "GET", f"/api/v1/vehicles/{vehicle_id}", "openflex_user").status_code == 200


def icar(fakes, path: str, body: object) -> requests.Response:  # noqa: ANN001
    return requests.post(f"{fakes.icar_url}/api/v1{path}", json=body, timeout=10,
                         headers={"Authorization": f"Bearer {fakes.keys['icar_user']}"})


def test_under_exit_in_openflex_a_vehicle_invoiced_but_not_exited_fails_the_audit(icarflex_fakes) -> None:  # noqa: ANN001
    """« Sortie des véhicules en statut livraison » at NON: ICAR invoices, the exit is the OpenFlex
    user's; an audit taken before that exit says so (R3), one taken after it is clean."""
    from icarflex.contracts import load_contract
    from icarflex.mocks.icar.lifecycle import lifecycle

    contract, life = load_contract(), lifecycle()
    icarflex_fakes.set_profile("exit-in-openflex")
    vehicle_id = created(icarflex_fakes)
    record = icar(icarflex_fakes, "/vehicles/match", {"openflex_id": vehicle_id})
    assert record.status_code == 201, record.text
    record_id = record.json()["id"]
    entered = icar(icarflex_fakes, f"/vehicles/{record_id}/physical-entry", {"mileage": 42_100})
    assert entered.status_code == 200, entered.text
    path = f"/api/v1/vehicles/{vehicle_id}"
    assert call(icarflex_fakes, "POST", f"{path}/reservations", "openflex_user",
                dict(contract.vehicle.reservations.blocking)).status_code == 201
    assert call(icarflex_fakes, "PATCH", path, "openflex_user", {"status": life.delivered}).status_code == 200
    invoiced = icar(icarflex_fakes, f"/vehicles/{record_id}/invoices",
                    {"customer": "Garage du Centre", "invoiced_sale_price": 4_200.0})
    assert invoiced.status_code == 201, invoiced.text
    verdict = icarflex_fakes.audit()
    assert [(v.rule, v.field) for v in verdict.violations] == [(contract.rule_for("status_mapping"),
                                                                "status")]
    assert call(icarflex_fakes, "PATCH", path, "openflex_user", {"status": life.exit}).status_code == 200
    assert icarflex_fakes.audit().ok, str(icarflex_fakes.audit())
