"""Scratch dealers through `/__admin/dealers`, over real HTTP: their own keys, their own data and
parameterization, nobody else's touched; a refused creation leaves no key behind."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.openflex.app import create_app

ADMIN = {"Authorization": "Bearer demo-admin-key"}
VEHICLE = {"vin": "VF1RFB00X56789012", "registration": "AB-123-CD", "destination": "PARTICULIER",
           "origin": "PARTICULIER", "mileage": 42000, "first_registration_date": "2019-03-01",
           "purchase_source": "ACHAT_DIRECT", "trade_in_price": 5000}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def openflex(tmp_path) -> Iterator[str]:  # noqa: ANN001
    with LiveServer(create_app({"DB": str(tmp_path / "o.sqlite3")}), threads=4) as server:
        yield server.url


def new_dealer(url: str, **body) -> requests.Response:  # noqa: ANN003
    return requests.post(f"{url}/__admin/dealers", json=body, headers=ADMIN, timeout=10)


def test_a_scratch_dealer_gets_a_key_per_actor_and_sees_only_its_own_vehicles(openflex: str) -> None:
    created = requests.post(f"{openflex}/api/v1/vehicles", json=VEHICLE, headers=bearer("demo-openflex-key"),
                            timeout=10)
    assert created.status_code == 201
    reply = new_dealer(openflex)
    assert reply.status_code == 201
    dealer, keys = reply.json()["dealer"], reply.json()["keys"]
    assert set(keys) == {"admin", "dms", "mobile_app", "openflex_user"}
    assert keys["dms"] == f"{dealer}-dms-key"  # the ICAR connector's default key for that dealer
    listed = requests.get(f"{openflex}/api/v1/vehicles", headers=bearer(keys["openflex_user"]), timeout=10)
    assert listed.status_code == 200 and listed.json()["items"] == []
    mine = requests.get(f"{openflex}/api/v1/vehicles", headers=bearer("demo-openflex-key"), timeout=10)
    assert [v["id"] for v in mine.json()["items"]] == [created.json()["id"]]


def test_its_settings_are_its_own(openflex: str) -> None:
    reply = new_dealer(openflex, settings={"fields": {"mileage": {"dms_modifiable": False}}})
    keys = reply.json()["keys"]
    assert reply.json()["settings"]["fields"]["mileage"] == {"dms_modifiable": False}
    def mileage(key: str) -> bool:
        return requests.get(f"{openflex}/api/v1/settings/api-vo", headers=bearer(key),
                            timeout=10).json()["fields"]["mileage"]["dms_modifiable"]
    assert mileage(keys["dms"]) is False
    assert mileage("demo-dms-key") is True


def test_a_refused_creation_leaves_no_key(openflex: str) -> None:
    reply = new_dealer(openflex, dealer="lost", settings={"fields": {"nope": {"dms_modifiable": True}}})
    assert reply.status_code == 422 and reply.json()["fields"] == ["fields.nope"]
    assert requests.get(f"{openflex}/api/v1/settings/api-vo", headers=bearer("lost-dms-key"),
                        timeout=10).status_code == 401


def test_a_dealer_name_is_taken_once_and_only_admin_creates(openflex: str) -> None:
    assert new_dealer(openflex, dealer="shop").status_code == 201
    again = new_dealer(openflex, dealer="shop")
    assert again.status_code == 409 and again.json()["fields"] == ["dealer"]
    assert new_dealer(openflex, dealer="demo").status_code == 409
    refused = requests.post(f"{openflex}/__admin/dealers", json={}, headers=bearer("demo-dms-key"),
                            timeout=10)
    assert refused.status_code == 403


def test_withdrawn_keys_are_refused(openflex: str) -> None:
    keys = new_dealer(openflex, dealer="gone").json()["keys"]
    assert requests.delete(f"{openflex}/__admin/dealers/gone", headers=ADMIN, timeout=10).status_code == 200
    assert requests.get(f"{openflex}/api/v1/settings/api-vo", headers=bearer(keys["dms"]),
                        timeout=10).status_code == 401
    assert requests.delete(f"{openflex}/__admin/dealers/gone", headers=ADMIN, timeout=10).status_code == 404


def test_keys_live_in_the_store_so_another_app_on_it_knows_them(tmp_path) -> None:  # noqa: ANN001
    db = str(tmp_path / "shared.sqlite3")
    first, second = create_app({"DB": db}), create_app({"DB": db})
    made = first.test_client().post("/__admin/dealers", json={"dealer": "both"}, headers=ADMIN)
    keys = made.get_json()["keys"]
    answer = second.test_client().get("/api/v1/settings/api-vo", headers=bearer(keys["openflex_user"]))
    assert answer.status_code == 200
