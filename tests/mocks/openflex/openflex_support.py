"""Test helpers for the OpenFlex fake: a caller per actor, over real HTTP or Flask's test client.

`World` talks to one fresh fake as every actor (`world.as_actor("dms")`,
`world.openflex`, `world.dms`…), creates reference vehicles and walks them along
their lifeline the way the contract says: each step made by the actor the
transition names, its preconditions met first (`satisfy`) — or deliberately broken
(`unsatisfy`) for the negative tests.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from flask.testing import FlaskClient
from icarflex.contracts import ApiVoSettings, Contract, load_contract
from icarflex.contracts.engine import precondition_holds
from icarflex.contracts.models import Transition
from icarflex.mocks.common.errors import PROBLEM_MIME

KEYS = {"mobile_app": "demo-mobile-key", "openflex_user": "demo-openflex-key", "dms": "demo-dms-key",
        "admin": "demo-admin-key"}
OTHER_DEALER_KEYS = {"mobile_app": "demo2-mobile-key", "openflex_user": "demo2-openflex-key",
                     "dms": "demo2-dms-key"}
UNKNOWN_VIN = "XXX1234567ABCDEFG"  # pattern-valid, no known WMI: the match finds nothing
# A professional's car bought under the margin scheme (rule R9: its regime stated at the purchase):
# a test may flip its origin or its VAT without breaking R9.
CREATION = {"destination": "PARTICULIER", "origin": "PROFESSIONNEL", "purchase_source": "ACHAT_DIRECT",
            "vat_recoverable": False}


@dataclass
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]
    content_type: str

    def problem(self, status: int, code: str) -> dict[str, Any]:
        """The problem+json body, asserting its status and code."""
        assert self.content_type == PROBLEM_MIME, (self.status, self.content_type, self.body)
        assert (self.status, self.body["code"]) == (status, code), self.body
        return self.body

    def ok(self, status: int = 200) -> Any:
        assert self.status == status, (self.status, self.body)
        return self.body


Send = Callable[..., Answer]


def http_transport(base_url: str, session: requests.Session) -> Send:
    def send(method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Answer:
        reply = session.request(method, base_url + path, headers=headers, timeout=30, **kwargs)
        mime = reply.headers.get("Content-Type", "").split(";")[0]
        body = reply.json() if mime.endswith("json") and reply.content else reply.content or None
        return Answer(reply.status_code, body, reply.headers, mime)
    return send


def client_transport(client: FlaskClient) -> Send:
    def send(method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Answer:
        reply = client.open(path, method=method, headers=headers, **kwargs)
        body = reply.get_json(silent=True) if reply.mimetype.endswith("json") else reply.data or None
        return Answer(reply.status_code, body, reply.headers, reply.mimetype)
    return send


@dataclass
class Caller:
    """One API key's view of the fake; paths are relative to /api/v1 unless they start with /__."""

    send: Send
    key: str | None

    def __call__(self, method: str, path: str, json: Any = None, headers: dict[str, str] | None = None,
                 **kwargs: Any) -> Answer:
        full = path if path.startswith(("/__", "/openapi")) else "/api/v1" + path
        all_headers = {**({"Authorization": f"Bearer {self.key}"} if self.key else {}), **(headers or {})}
        if json is not None:
            kwargs["json"] = json
        return self.send(method, full, all_headers, **kwargs)

    def get(self, path: str, **kw: Any) -> Answer:
        return self("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Answer:
        return self("POST", path, json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> Answer:
        return self("PATCH", path, json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> Answer:
        return self("PUT", path, json, **kw)

    def delete(self, path: str, **kw: Any) -> Answer:
        return self("DELETE", path, **kw)


@dataclass
class World:
    send: Send
    contract: Contract = field(default_factory=load_contract)
    _references: list[dict[str, Any]] = field(default_factory=list)
    _police: itertools.count = field(default_factory=lambda: itertools.count(1))

    def as_actor(self, actor: str, dealer: str = "demo") -> Caller:
        return Caller(self.send, KEYS[actor] if dealer == "demo" else OTHER_DEALER_KEYS[actor])

    def as_key(self, key: str | None) -> Caller:
        return Caller(self.send, key)

    @property
    def openflex(self) -> Caller:
        return self.as_actor("openflex_user")

    @property
    def dms(self) -> Caller:
        return self.as_actor("dms")

    @property
    def mobile(self) -> Caller:
        return self.as_actor("mobile_app")

    @property
    def admin(self) -> Caller:
        return self.as_actor("admin")

    # -- data ----------------------------------------------------------------------
    def reference(self, index: int) -> dict[str, Any]:
        if not self._references:
            self._references = self.openflex.get("/reference/vehicles?limit=100").ok()["items"]
        return self._references[index]

    def create_vehicle(self, index: int = 0, actor: str = "openflex_user", **fields: Any) -> dict[str, Any]:
        ref = self.reference(index)
        body = {**CREATION, "vin": ref["vin"], "registration": ref["registration"], "sale_price": 15000.0,
                **fields}
        return self.as_actor(actor).post("/vehicles", body).ok(201)

    def vehicle(self, vehicle_id: str) -> dict[str, Any]:
        return self.openflex.get(f"/vehicles/{vehicle_id}").ok()

    def settings(self) -> ApiVoSettings:
        body = self.openflex.get("/settings/api-vo").ok()
        return ApiVoSettings.defaults(self.contract).merge(body)

    def flip(self, row_id: str) -> bool:
        """Flip one row of the demo dealer's parameterization; returns its new value."""
        current = self.settings()
        value = not current[row_id]
        row = self.contract.rows[row_id]
        section = {"setting": "settings", "field": "fields", "capability": "capabilities"}[row.kind]
        self.admin.put("/settings/api-vo", {section: {row_id: {"dms_modifiable": value}
                                                      if row.kind == "field" else value}}).ok()
        return value

    def police_number(self) -> str:
        return f"PARIS16-2025-{next(self._police):06d}"

    # -- the lifeline -------------------------------------------------------------
    def mover(self, transition: Transition) -> str | None:
        """The actor who makes this step under the current settings (None: nobody may)."""
        if transition.actors:
            return transition.actors[0]
        settings = self.settings()
        return next((a for a in transition.makers if transition.may_make(a, settings)), None)

    def satisfy(self, name: str, vehicle_id: str) -> None:
        meet(self, name, vehicle_id, met=True)

    def unsatisfy(self, name: str, vehicle_id: str) -> None:
        meet(self, name, vehicle_id, met=False)

    def walk_to(self, vehicle_id: str, status: str) -> dict[str, Any]:
        """Move the vehicle along its destination's lifeline up to `status`, as the contract says."""
        vehicle = self.vehicle(vehicle_id)
        line = self.contract.lifeline.lifelines[vehicle["destination"]]
        for target in line[line.index(vehicle["status"]) + 1: line.index(status) + 1]:
            transition = self.contract.transition(vehicle["status"], target, vehicle["destination"])
            assert transition is not None
            for name in transition.requires:
                self.satisfy(name, vehicle_id)
            actor = self.mover(transition)
            assert actor is not None, f"nobody may make {transition.from_}->{target}"
            vehicle = self.as_actor(actor).patch(f"/vehicles/{vehicle_id}", {"status": target}).ok()
        return vehicle

    def vehicle_in(self, status: str, destination: str, index: int = 0) -> dict[str, Any]:
        vehicle = self.create_vehicle(index, destination=destination)
        return self.walk_to(vehicle["id"], status)

    def snapshot(self, dealers: tuple[str, ...] = ("demo",)) -> dict[str, Any]:
        """What a refused request must leave untouched: vehicles (with their reservations), events
        and settings of the dealers named (a demo key writes only to the demo dealer)."""
        out = {}
        for dealer in dealers:
            caller = self.as_actor("openflex_user", dealer)
            out[dealer] = (caller.get("/vehicles?limit=500").ok(), caller.get("/events?limit=1000").ok(),
                           caller.get("/settings/api-vo").ok())
        return out


def _blocking_reservation(world: World, vehicle_id: str) -> None:
    if not world.vehicle(vehicle_id)["reservations"]:
        body = {**world.contract.vehicle.reservations.blocking, "comment": "vente hors Opportunités"}
        world.openflex.post(f"/vehicles/{vehicle_id}/reservations", body).ok(201)


def _lift_reservations(world: World, vehicle_id: str) -> None:
    for reservation in world.vehicle(vehicle_id)["reservations"]:
        world.openflex.delete(f"/vehicles/{vehicle_id}/reservations/{reservation['id']}").ok(204)


def _writer(world: World, field: str) -> Caller:
    """Who writes a field over HTTP: the DMS what is entered in ICAR, the OpenFlex user the rest."""
    row = world.contract.rows.get(field)
    return world.dms if row is not None and row.entered_in == "ICAR" else world.openflex


def _present(world: World, vehicle_id: str, field: str, met: bool) -> None:
    value = (world.police_number() if field == "police_number" else
             sample_value(world.contract, field, None, world)) if met else None
    _writer(world, field).patch(f"/vehicles/{vehicle_id}", {field: value}).ok()


def _not_in(world: World, vehicle_id: str, field: str, met: bool) -> None:
    """`not_in` reads a computed field (the reference match): reference vehicles meet it from their
    creation; a VIN unknown to the reference table breaks it."""
    if not met:
        world.openflex.patch(f"/vehicles/{vehicle_id}", {"vin": UNKNOWN_VIN, "registration": None}).ok()


def meet(world: World, name: str, vehicle_id: str, met: bool) -> None:
    """Meet (or break) precondition `name` over HTTP, by its kind in lifeline.yaml, then check it
    with the engine's own evaluator."""
    pre = world.contract.lifeline.preconditions[name]
    if pre.present is not None:
        _present(world, vehicle_id, pre.present, met)
    elif pre.not_in is not None:
        _not_in(world, vehicle_id, next(iter(pre.not_in)), met)
    else:
        (_blocking_reservation if met else _lift_reservations)(world, vehicle_id)
    assert precondition_holds(world.contract, name, world.vehicle(vehicle_id)) is met, (name, met)


def sample_value(contract: Contract, field_id: str, current: Any, world: World | None = None) -> Any:
    """A valid value for a field, different from `current` (from the field's type in vehicle.yaml)."""
    spec = contract.vehicle.fields[field_id]
    if spec.type == "enum":
        return next(v for v in contract.enum_values(field_id) if v != current)
    if field_id in ("vin", "registration") and world is not None:
        return world.reference(50)[field_id]
    return {"date": "2019-05-04", "boolean": not current, "integer": 123_456, "number": 4321.5}.get(
        spec.type, "VALEUR-TEST")
