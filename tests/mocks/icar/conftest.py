"""Both fakes live on loopback (waitress, free ports) and a helper per actor.

`systems` gives a clean world for each test (both fakes reset, faults cleared):
`systems.icar(...)` calls ICAR as a DMS user, `systems.openflex(...)` calls OpenFlex
(as `openflex_user` unless another key is given), `systems.vehicle(...)` creates a
reconciled OpenFlex vehicle in its entry status from the reference table.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from icarflex.contracts import load_contract
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.icar.app import create_app as create_icar
from icarflex.mocks.openflex.app import create_app as create_openflex

ICAR_KEY, OPENFLEX_KEY, ADMIN_KEY = "demo-icar-key", "demo-openflex-key", "demo-admin-key"
# Small enough for a fast suite, large enough that loopback calls never time out by accident.
SYNC = {"SYNC_TIMEOUT": 0.6, "SYNC_RETRIES": 3, "SYNC_BACKOFF": 0.02}


@pytest.fixture(scope="session")
def openflex_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    app = create_openflex({"DB": str(tmp_path_factory.mktemp("openflex") / "openflex.sqlite3")})
    with LiveServer(app, threads=12) as server:
        yield server


@pytest.fixture(scope="session")
def icar_server(openflex_server: LiveServer,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    app = create_icar({"DB": str(tmp_path_factory.mktemp("icar") / "icar.sqlite3"),
                       "OPENFLEX_URL": openflex_server.url, **SYNC})
    with LiveServer(app, threads=12) as server:
        yield server


@dataclass
class Systems:
    openflex_url: str
    icar_url: str
    session: requests.Session = field(default_factory=requests.Session)
    _references: list[dict[str, Any]] = field(default_factory=list)

    def icar(self, method: str, path: str, json: Any = None, key: str = ICAR_KEY) -> requests.Response:
        return self.session.request(method, self.icar_url + "/api/v1" + path, json=json,
                                    headers={"Authorization": f"Bearer {key}"}, timeout=30)

    def openflex(self, method: str, path: str, json: Any = None,
                 key: str = OPENFLEX_KEY) -> requests.Response:
        url = self.openflex_url + ("" if path.startswith("/__") else "/api/v1") + path
        return self.session.request(method, url, json=json, headers={"Authorization": f"Bearer {key}"},
                                    timeout=30)

    def reference(self, index: int) -> dict[str, Any]:
        if not self._references:
            reply = self.openflex("GET", "/reference/vehicles?limit=100")
            assert reply.status_code == 200, reply.text
            self._references = reply.json()["items"]
        return self._references[index]

    def vehicle(self, index: int = 0, destination: str = "PARTICULIER", origin: str = "PARTICULIER",
                **extra: Any) -> dict[str, Any]:
        ref = self.reference(index)
        body = {"vin": ref["vin"], "registration": ref["registration"], "destination": destination,
                "origin": origin, "purchase_source": "REPRISE", "mileage": 42_000, "trade_in_price": 6_000.0,
                **extra}
        reply = self.openflex("POST", "/vehicles", body)
        assert reply.status_code == 201, reply.text
        return reply.json()

    def openflex_vehicle(self, vehicle_id: str) -> dict[str, Any]:
        reply = self.openflex("GET", f"/vehicles/{vehicle_id}")
        assert reply.status_code == 200, reply.text
        return reply.json()

    def matched(self, index: int = 0, **vehicle: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """An OpenFlex vehicle and its DMS record in ARRIVAGE."""
        created = self.vehicle(index, **vehicle)
        reply = self.icar("POST", "/vehicles/match", {"openflex_id": created["id"]})
        assert reply.status_code == 201, reply.text
        return created, reply.json()

    def in_stock(self, index: int = 0, **vehicle: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        created, record = self.matched(index, **vehicle)
        reply = self.icar("POST", f"/vehicles/{record['id']}/physical-entry", {"mileage": 42_100})
        assert reply.status_code == 200, reply.text
        return created, reply.json()

    def sync_log(self, **filters: Any) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        reply = self.icar("GET", f"/sync-log?limit=1000&{query}")
        assert reply.status_code == 200, reply.text
        return reply.json()["items"]

    def dms_writes(self, vehicle_id: str) -> list[dict[str, Any]]:
        """The OpenFlex change feed's updates made by the DMS to this vehicle."""
        reply = self.openflex("GET", "/events?limit=500")
        assert reply.status_code == 200, reply.text
        return [e for e in reply.json()["items"] if e["vehicle_id"] == vehicle_id
                and e["actor"] == "dms" and e["type"] == "vehicle.updated"]

    def faults(self, **settings: Any) -> None:
        reply = self.openflex("PUT", "/__admin/faults", settings, key=ADMIN_KEY)
        assert reply.status_code == 200, reply.text

    def reset(self) -> None:
        for url in (self.openflex_url, self.icar_url):
            reply = self.session.post(url + "/__admin/reset",
                                      headers={"Authorization": f"Bearer {ADMIN_KEY}"})
            assert reply.status_code == 200, reply.text
        self.faults()


@pytest.fixture
def systems(openflex_server: LiveServer, icar_server: LiveServer) -> Iterator[Systems]:
    systems = Systems(openflex_server.url, icar_server.url)
    systems.reset()
    yield systems
    systems.faults()
    systems.session.close()


@pytest.fixture(scope="session")
def contract():  # noqa: ANN201
    return load_contract()


@pytest.fixture(scope="session")
def sync() -> dict[str, float]:
    """The connector's timeout and retry settings the live ICAR fake runs with."""
    return dict(SYNC)
