"""Pact provider states of the OpenFlex fake: `POST /__admin/provider-states` (admin).

Pact's verifier calls it before replaying each interaction of a Pact file written by
`icarflex run --pact` (scenarios/pact.py). The state's `params.vehicle` is the vehicle as
it was before the connector's request (the journal's `vehicle_before`); the fake places
that vehicle — its data, status and reservations — in a scratch dealer of its own (with
`params.settings`, the rows a negative twin flips, laid over this fake's profile) (keys
through icarflex.mocks.common.dealers) and answers the values the interaction's
provider-state generators use: `vehicle_id` (its path) and `dms_key` (its Authorization).
So every interaction runs on a dealer of its own, under the parameterization this fake
serves: a profile that flips a row the interactions need turns the verification red.
The admin key comes as the Authorization header or as `?key=` (the verifier's URL).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from icarflex.mocks.common.api import parse_json_object, render
from icarflex.mocks.common.auth import require
from icarflex.mocks.common.dealers import key_ring
from icarflex.mocks.common.errors import ApiError, Forbidden
from icarflex.mocks.openflex import events
from icarflex.mocks.openflex.service import now
from icarflex.mocks.openflex.vehicles import PUBLISHED

STATE_ACTOR = "admin"


def place_vehicle(service: Any, dealer: str, snapshot: dict[str, Any]) -> str:
    """Store `snapshot` (a vehicle's JSON) as a vehicle of `dealer`, reservations included."""
    contract = service.contract
    if not isinstance(snapshot.get("status"), str) or snapshot["status"] not in contract.statuses:
        raise ApiError("VALIDATION_ERROR", "params.vehicle.status : statut inconnu du contrat",
                       fields=["params.vehicle.status"])
    vehicle = {name: snapshot.get(name) for name in contract.vehicle.fields if name != PUBLISHED}
    vehicle["status"] = snapshot["status"]
    stamp = now()
    with service.unit() as r:
        vehicle_id = r.vehicles.add(dealer, vehicle, stamp)
        for reservation in snapshot.get("reservations") or []:
            r.reservations.add(dealer, {**reservation, "id": None, "vehicle_id": vehicle_id})
        r.events.record(dealer, events.VEHICLE_CREATED, STATE_ACTOR, vehicle_id,
                        {"provider_state": True}, stamp)
    return vehicle_id


def _require_admin() -> None:
    key = request.args.get("key")
    if key and "Authorization" not in request.headers:
        entry = key_ring().get(key)
        if not entry or entry["actor"] != "admin":
            raise Forbidden("Clé admin attendue (?key=)")
        return
    require("admin")


def provider_states_blueprint() -> Blueprint:
    bp = Blueprint("provider_states", __name__, url_prefix="/__admin")

    @bp.post("/provider-states")
    def set_provider_state() -> Response:
        _require_admin()
        body = parse_json_object()
        if body.get("action", "setup") != "setup":
            return render({}, 200)  # teardown: each state has its own dealer, nothing to undo
        params = body.get("params") or {}
        ring = key_ring()
        dealer = f"pact-{ring.fresh_name()}"
        keys = ring.create(dealer)
        values: dict[str, Any] = {"dealer": dealer, "dms_key": keys.get("dms"),
                                  "openflex_key": keys.get("openflex_user")}
        service = current_app.extensions["icarflex"].backend
        if isinstance(params.get("settings"), dict):  # the rows a negative twin flips, for it alone
            service.put_settings(dealer, params["settings"])
        if isinstance(params.get("vehicle"), dict):
            values["vehicle_id"] = place_vehicle(service, dealer, params["vehicle"])
        return render(values, 200)

    return bp


def install(app: Flask) -> None:
    app.register_blueprint(provider_states_blueprint())
