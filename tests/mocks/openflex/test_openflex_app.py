"""The factory: `create_app(config, contract)` enforces the contract it is given and keeps it on
the app (STYLE §4); a fresh app is a fresh world on its own store."""
from __future__ import annotations

from pathlib import Path

from icarflex.contracts import load_contract
from icarflex.mocks.openflex.app import create_app


def test_create_app_keeps_the_contract_it_is_given(tmp_path: Path) -> None:
    contract = load_contract()
    app = create_app({"DB": str(tmp_path / "a.sqlite3")}, contract=contract)
    context = app.extensions["icarflex"]
    assert context.contract is contract and context.backend.contract is contract
    context.store.close()


def test_two_apps_are_two_worlds(tmp_path: Path) -> None:
    first = create_app({"DB": str(tmp_path / "one.sqlite3")})
    second = create_app({"DB": str(tmp_path / "two.sqlite3")})
    creation = {"destination": "CASSE", "origin": "PARTICULIER", "purchase_source": "REPRISE"}
    first.extensions["icarflex"].backend.create_vehicle("demo", "openflex_user", creation)
    assert second.extensions["icarflex"].backend.list_vehicles("demo")["items"] == []
    for app in (first, second):
        app.extensions["icarflex"].store.close()
