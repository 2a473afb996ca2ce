"""The yardstick: a bare Flask app answering a vehicle of the same shape as the OpenFlex fake.

GET and PATCH of one vehicle, no auth, no store, no journal, no contract; served by
the same server with the same settings as `icarflex serve`, so the ratio measures
what the fake's own work costs.

    python -m benchmarks.bare_app PORT THREADS VEHICLE_JSON_FILE
"""
from __future__ import annotations

import json
import sys
from typing import Any

from flask import Flask, request
from waitress import serve


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


if __name__ == "__main__":
    port, threads, vehicle_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with open(vehicle_file, encoding="utf-8") as handle:
        sample = json.load(handle)
    serve(create_app(sample), host="127.0.0.1", port=port, threads=threads, ident="icarflex")
