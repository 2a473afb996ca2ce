"""Helpers of the dashboard and docs tests: both fakes introduced to each other, and the few
calls that bring a vehicle along its lifeline (plain HTTP, as an integrator would)."""
from __future__ import annotations

from typing import Any

import requests
from icarflex.scenarios.generate import generate_case

ADMIN = {"Authorization": "Bearer demo-admin-key"}
OPENFLEX_USER = {"Authorization": "Bearer demo-openflex-key"}
ICAR_USER = {"Authorization": "Bearer demo-icar-key"}
DMS = {"Authorization": "Bearer demo-dms-key"}


def create_case(index: int) -> dict[str, Any]:
    return generate_case("achat_direct", 2025, f"dashboard-{index}")


def create_vehicle(openflex_url: str, index: int) -> dict[str, Any]:
    """A bought vehicle created in « Véhicules » (achat direct), in Pré-Rentrée."""
    case = create_case(index)
    reply = requests.post(f"{openflex_url}/api/v1/vehicles", headers=OPENFLEX_USER, timeout=10,
                          json={**case["vehicle"], "purchase_source": "ACHAT_DIRECT"})
    assert reply.status_code == 201, reply.text
    return {**case, "id": reply.json()["id"]}


def match(icar_url: str, vin: str) -> dict[str, Any]:
    reply = requests.post(f"{icar_url}/api/v1/vehicles/match", headers=ICAR_USER, json={"vin": vin},
                          timeout=10)
    assert reply.status_code in (200, 201), reply.text
    return reply.json()


def physical_entry(icar_url: str, record_id: str, mileage: int) -> requests.Response:
    return requests.post(f"{icar_url}/api/v1/vehicles/{record_id}/physical-entry", headers=ICAR_USER,
                         json={"mileage": mileage}, timeout=10)
