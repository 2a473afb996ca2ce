"""The yardstick: a bare Flask app answering a vehicle of the same shape as the OpenFlex fake.

GET and PATCH of one vehicle, no auth, no store, no journal, no contract; served by
the same server with the same settings as `icarflex serve` (`icarflex.mocks.common.server.LiveServer`,
waitress; with WORKERS > 1, gunicorn's arbiter and waitress workers as `serve --workers`),
so the ratio measures what the fake's own work costs.

    python -m benchmarks.bare_app PORT THREADS VEHICLE_JSON_FILE [WORKERS]
"""
from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Any

from flask import Flask, request
from icarflex.mocks.common.server import LiveServer


def create_app(vehicle: dict[str, Any]) -> Flask:
    app = Flask(__name__)
    state = {"vehicle": dict(vehicle)}

    @app.get("/api/v1/vehicles/<vehicle_id>")
    def get_vehicle(vehicle_id: str) -> Any:
        return state["vehicle"]

    @app.patch("/api/v1/vehicles/<vehicle_id>")
    def patch_vehicle(vehicle_id: str) -> Any:
        state["vehicle"] = {**state["vehicle"], **(request.get_json() or {})}
        return state["vehicle"]

    @app.get("/__admin/health")
    def health() -> Any:
        return {"status": "ok"}

    return app


def main(argv: list[str]) -> int:
    port, threads, vehicle_file = int(argv[0]), int(argv[1]), argv[2]
    workers = int(argv[3]) if len(argv) > 3 else 1
    with open(vehicle_file, encoding="utf-8") as handle:
        sample = json.load(handle)
    if workers > 1:
        from icarflex.mocks.common.workers import run_workers
        run_workers(lambda _: [create_app(sample)], [f"127.0.0.1:{port}"], workers, threads, lambda _: None)
        return 0
    server = LiveServer(create_app(sample), "127.0.0.1", port, threads).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
