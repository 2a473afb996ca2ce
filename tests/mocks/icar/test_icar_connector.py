"""The connector on its own: bounded retries against an unreachable OpenFlex, all logged."""
from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from flask import Flask, jsonify, request
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.common.store import open_store
from icarflex.mocks.icar.connector import ConnectorSettings, OpenFlexConnector, applied
from icarflex.mocks.icar.migrations import MIGRATIONS
from icarflex.mocks.icar.synclog import CallContext, SyncLog


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def connector(tmp_path):
    log = sync_log(tmp_path)
    settings = ConnectorSettings(f"http://127.0.0.1:{closed_port()}", lambda dealer: f"{dealer}-dms-key",
                                 timeout=0.5, retries=2, backoff=0.05)
    return OpenFlexConnector(settings, log)


def test_unreachable_openflex_is_retried_then_logged_failed(connector):
    started = time.monotonic()
    out = connector.patch_vehicle(CallContext("demo", "frevo", "r1", "v1"), "v1", {"frevo_realised": 10.0})
    entries = connector.log.entries("demo")
    assert not out.ok
    assert time.monotonic() - started >= 0.05 + 0.1  # backoff 0.05 then 0.1 between the three rounds
    assert [(e["outcome"], e["method"], e["path"], e["body"]) for e in entries] == \
        [("FAILED", "PATCH", "/api/v1/vehicles/v1", {"frevo_realised": 10.0})]
    # Without a version to write against, each round first tries to read the vehicle.
    assert [t["method"] for t in entries[0]["tries"]] == ["GET", "GET", "GET"]
    assert entries[0]["error"].startswith("ConnectionError")


def test_reads_are_retried_a_bounded_number_of_times(connector):
    out = connector.get_vehicle(CallContext("demo", "match"), "v1")
    assert (out.entry.outcome, out.entry.attempts, out.entry.status) == ("FAILED", 3, None)


@pytest.mark.parametrize(("vehicle", "change", "landed"), [
    ({"mileage": 12000, "status": "ENTREE_PHYSIQUE"}, {"mileage": 12000, "status": "ENTREE_PHYSIQUE"}, True),
    ({"frevo_realised": 350}, {"frevo_realised": 350.0}, True),
    ({"mileage": 12000}, {"mileage": 12001}, False),
    ({"vat_recoverable": False}, {"vat_recoverable": True}, False),
    (None, {"mileage": 1}, False),
])
def test_a_write_counts_as_landed_only_when_every_value_is_there(vehicle, change, landed):
    assert applied(vehicle, change) is landed


def slow_upstream(answer_after_s: float) -> Flask:
    """An OpenFlex stand-in that applies a PATCH, then answers too late for the connector."""
    app = Flask("slow-openflex")
    vehicle = {"id": "v1", "mileage": 1000, "version": 1}
    app.config["writes"] = []

    @app.get("/api/v1/vehicles/v1")
    def read():  # noqa: ANN202
        return jsonify(vehicle), 200, {"ETag": f'"v{vehicle["version"]}"'}

    @app.patch("/api/v1/vehicles/v1")
    def write():  # noqa: ANN202
        if request.headers.get("If-Match") != f'"v{vehicle["version"]}"':
            return jsonify({"code": "PRECONDITION_FAILED"}), 412
        vehicle.update(request.get_json(), version=vehicle["version"] + 1)
        app.config["writes"].append(request.get_json())
        time.sleep(answer_after_s)
        return jsonify(vehicle)

    return app


def test_a_write_that_landed_before_its_timeout_is_not_sent_again(tmp_path):
    upstream = slow_upstream(answer_after_s=0.6)
    with LiveServer(upstream) as server:
        log = sync_log(tmp_path)
        connector = OpenFlexConnector(ConnectorSettings(server.url, lambda d: "k", timeout=0.3, retries=3,
                                                        backoff=0.01), log)
        out = connector.patch_vehicle(CallContext("demo", "update"), "v1", {"mileage": 2000})
    assert out.ok
    assert upstream.config["writes"] == [{"mileage": 2000}]
    assert [(t["method"], t["status"], t.get("landed")) for t in out.entry.tries] == \
        [("GET", 200, None), ("PATCH", None, None), ("GET", 200, True)]
    assert out.entry.attempts == 1


def sync_log(folder: Path) -> SyncLog:
    store = open_store(folder / "sync.sqlite3")
    store.migrate("icar", MIGRATIONS)
    return SyncLog(store)
