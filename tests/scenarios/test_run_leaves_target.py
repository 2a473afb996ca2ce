"""`run` against a served store never resets or alters what it did not create: a vehicle of the
store's own and a row flipped by `PUT /settings/api-vo` are left as they were, and the flipped
row is reported as drift (exit 1). `--reset` is opt-in, and says it happened."""
from __future__ import annotations

import pytest
import requests
from icarflex.scenarios.cli import main

OPENFLEX_USER = {"Authorization": "Bearer demo-openflex-key"}
ADMIN = {"Authorization": "Bearer demo-admin-key"}
VEHICLE = {"vin": "VF1RFB00X56789012", "registration": "AB-123-CD", "destination": "PARTICULIER",
           "origin": "PARTICULIER", "mileage": 42000, "first_registration_date": "2019-03-01",
           "purchase_source": "ACHAT_DIRECT", "trade_in_price": 5000}



def own_vehicle(openflex: str) -> dict:
    reply = requests.post(f"{openflex}/api/v1/vehicles", json=VEHICLE, headers=OPENFLEX_USER, timeout=10)
    assert reply.status_code == 201
    return reply.json()


def mileage_row(openflex: str) -> bool:
    reply = requests.get(f"{openflex}/api/v1/settings/api-vo", headers=OPENFLEX_USER, timeout=10)
    return reply.json()["fields"]["mileage"]["dms_modifiable"]


def test_run_leaves_the_store_s_vehicle_and_flipped_row_and_reports_the_drift(
        served: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    openflex, icar = served
    vehicle = own_vehicle(openflex)
    flipped = {"fields": {"mileage": {"dms_modifiable": False}}}
    assert requests.put(f"{openflex}/api/v1/settings/api-vo", json=flipped, headers=ADMIN, timeout=10).ok
    assert main(["run", "all", "--openflex-url", openflex, "--icar-url", icar, "-q"]) == 1
    out = capsys.readouterr().out
    assert "DÉRIVE du paramétrage : mileage (Kilométrage VO) : attendu OUI, trouvé NON" in out
    after = requests.get(f"{openflex}/api/v1/vehicles/{vehicle['id']}", headers=OPENFLEX_USER, timeout=10)
    assert after.status_code == 200
    assert {k: after.json()[k] for k in VEHICLE} == {k: vehicle[k] for k in VEHICLE}
    assert mileage_row(openflex) is False
    assert "remise à zéro" not in out


def test_a_green_run_with_twins_flipping_settings_leaves_the_dealer_s_settings(
        served: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    openflex, icar = served
    vehicle = own_vehicle(openflex)
    before = requests.get(f"{openflex}/api/v1/settings/api-vo", headers=OPENFLEX_USER, timeout=10).json()
    assert main(["run", "all", "--openflex-url", openflex, "--icar-url", icar, "-q"]) == 0
    after = requests.get(f"{openflex}/api/v1/settings/api-vo", headers=OPENFLEX_USER, timeout=10).json()
    assert after == before  # casse's twin flipped uc_price_editable in a scratch dealer, not here
    assert requests.get(f"{openflex}/api/v1/vehicles/{vehicle['id']}", headers=OPENFLEX_USER,
                        timeout=10).status_code == 200
    capsys.readouterr()


def test_reset_is_opt_in_and_said(served: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    openflex, icar = served
    vehicle = own_vehicle(openflex)
    assert main(["run", "casse", "--openflex-url", openflex, "--icar-url", icar, "--reset"]) == 0
    assert "cibles remises à zéro (--reset)" in capsys.readouterr().out
    gone = requests.get(f"{openflex}/api/v1/vehicles/{vehicle['id']}", headers=OPENFLEX_USER, timeout=10)
    assert gone.status_code == 404
