"""Thin HTTP helpers, one per system and actor, that keep the runner readable.

`OpenFlexClient(url, key)` speaks the OpenFlex API (docs/api.md) as one actor;
`Dms(icar_url, key)` drives the ICAR fake as a DMS user (its connector then pushes
to OpenFlex). Calls never raise on a 4xx: they return a `Reply` (status, body) and
report it to `on_call`, so the runner can check refusals and draw the sequence of
calls. Only a transport failure raises (`TargetUnreachable`).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
from icarflex.contracts import load_contract
from icarflex.mocks.common.transport import Transport, TransportError, encode_json
from icarflex.mocks.common.wire import WireMapping

API = "/api/v1"
TIMEOUT = 15.0
# DESIGN §3: the demo keys of dealer `demo`, one per actor; `icar` is the DMS user on ICAR.
DEMO_KEYS = {"mobile_app": "demo-mobile-key", "openflex_user": "demo-openflex-key",
             "dms": "demo-dms-key", "admin": "demo-admin-key", "icar": "demo-icar-key"}


class TargetUnreachable(RuntimeError):
    """A target that does not answer HTTP at all."""


@dataclass
class Reply:
    system: str
    actor: str
    method: str
    path: str
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    request: Any = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def problem(self) -> dict[str, Any]:
        """The refusal, as OpenFlex stated it (unwrapped from ICAR's UPSTREAM_REFUSED)."""
        if self.ok or not isinstance(self.body, dict):
            return {}
        return self.body.get("upstream") or self.body if self.body.get("code") == "UPSTREAM_REFUSED" \
            else self.body

    @property
    def problem_status(self) -> int:
        if isinstance(self.body, dict) and self.body.get("code") == "UPSTREAM_REFUSED":
            return int(self.body.get("upstream_status") or self.problem.get("status") or self.status)
        return self.status


OnCall = Callable[[Reply], None]
OnSend = Callable[["HttpClient", str, str, bool], None]


class HttpClient:
    """One system as one actor, over the one transport (`icarflex.mocks.common.transport`):
    pooled keep-alive connections, loopback or https alike."""

    def __init__(self, system: str, base_url: str, key: str | None, actor: str,
                 on_call: OnCall | None = None, on_send: OnSend | None = None) -> None:
        self.system, self.base_url, self.actor = system, base_url.rstrip("/"), actor
        auth = {"Authorization": f"Bearer {key}"} if key else {}
        self.transport = Transport(self.base_url, timeout=TIMEOUT, headers={"Accept": "*/*", **auth})
        self.on_call = on_call
        self.on_send = on_send  # told of every request before it is sent (the runner's journal)

    def request(self, method: str, path: str, body: Any = None, *, headers: Mapping[str, str] | None = None,
                params: Mapping[str, Any] | None = None, record: bool = True) -> Reply:
        if self.on_send:
            self.on_send(self, method, path, record)
        data = None if body is None else encode_json(body)
        try:
            answer = self.transport.request(method, path, body=data, headers=headers, params=params)
        except TransportError as exc:
            raise TargetUnreachable(f"{self.system} {self.base_url}: {exc}") from exc
        reply = Reply(self.system, self.actor, method, path, answer.status, _decode(answer.content),
                      dict(answer.headers.items()), body)
        if record and self.on_call:
            self.on_call(reply)
        return reply

    def close(self) -> None:
        self.transport.close()


def _decode(content: bytes) -> Any:
    """The body as JSON, else as text; None when empty."""
    if not content:
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        pass
    text = content.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _id(value: str) -> str:
    return quote(str(value), safe="")


class OpenFlexClient(HttpClient):
    """OpenFlex as one actor: vehicles, reservations, opportunities, settings, admin.

    Paths and JSON names come from a wire mapping (`icarflex.mocks.common.wire`, default the
    fakes' own): a call is made in the target's names, its answer read back in the fakes'."""

    def __init__(self, base_url: str, key: str | None, actor: str = "openflex_user",
                 on_call: OnCall | None = None, on_send: OnSend | None = None,
                 mapping: WireMapping | None = None) -> None:
        super().__init__("openflex", base_url, key, actor, on_call, on_send)
        self.mapping = mapping or WireMapping()

    def api(self, method: str, resource: str, body: Any = None, *, record: bool = True,
            headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
            **parameters: str) -> Reply:
        """A call of the API VO to one of the fakes' resources, under the mapping."""
        path = self.mapping.wire_path(resource, **{k: _id(v) for k, v in parameters.items()})
        wire_params = self.mapping.to_wire(dict(params)) if params else None
        reply = self.request(method, path, self.mapping.to_wire(body), headers=headers, params=wire_params,
                             record=False)
        reply.body, reply.request = self.mapping.to_contract(reply.body), body
        if record and self.on_call:
            self.on_call(reply)
        return reply

    def create_vehicle(self, data: Mapping[str, Any]) -> Reply:
        return self.api("POST", "vehicles", dict(data))

    def get_vehicle(self, vehicle_id: str, record: bool = False) -> Reply:
        return self.api("GET", "vehicle", record=record, vehicle_id=vehicle_id)

    def find_vehicles(self, **filters: Any) -> Reply:
        return self.api("GET", "vehicles", params=filters, record=False)

    def patch_vehicle(self, vehicle_id: str, change: Mapping[str, Any], if_match: str | None = None) -> Reply:
        headers = {"Content-Type": "application/merge-patch+json"}
        if if_match:
            headers["If-Match"] = if_match
        return self.api("PATCH", "vehicle", dict(change), headers=headers, vehicle_id=vehicle_id)

    def reserve_unlimited(self, vehicle_id: str, comment: str | None = None) -> Reply:
        """Rule R5: the unlimited reservation blocking sale and publication (shape from the contract)."""
        body = {**load_contract().vehicle.reservations.blocking, "comment": comment}
        return self.api("POST", "reservations", body, vehicle_id=vehicle_id)

    def cancel_reservation(self, vehicle_id: str, reservation_id: str) -> Reply:
        return self.api("DELETE", "reservation", vehicle_id=vehicle_id, reservation_id=reservation_id)

    def create_opportunity(self, customer: str) -> Reply:
        return self.api("POST", "opportunities", {"customer": {"name": customer}})

    def estimate_trade_in(self, opportunity_id: str, vehicle: Mapping[str, Any]) -> Reply:
        return self.api("POST", "trade_ins", dict(vehicle), opportunity_id=opportunity_id)

    def place_order(self, opportunity_id: str, vehicle_id: str, price: float) -> Reply:
        return self.api("POST", "order", {"vehicle_id": vehicle_id, "price": price},
                        opportunity_id=opportunity_id)

    def settings(self) -> Reply:
        return self.api("GET", "settings", record=False)

    def put_settings(self, overlay: Mapping[str, Any]) -> Reply:
        return self.api("PUT", "settings", dict(overlay))

    # -- simulator controls (admin key) -------------------------------------------
    def journal(self, after: int = 0, dealer: str | None = None) -> Reply:
        params = {"after": after, "limit": 100_000, **({"dealer": dealer} if dealer else {})}
        return self.request("GET", "/__admin/journal", params=params, record=False)

    def reset(self) -> Reply:
        return self.request("POST", "/__admin/reset", record=False)


class Dms(HttpClient):
    """The ICAR DMS as its user sees it: match, physical entry, FREVO, invoice."""

    def __init__(self, base_url: str, key: str | None, actor: str = "dms",
                 on_call: OnCall | None = None, on_send: OnSend | None = None) -> None:
        super().__init__("icar", base_url, key, actor, on_call, on_send)

    def match_vehicle(self, **identity: Any) -> Reply:
        return self.request("POST", f"{API}/vehicles/match", identity)

    def book_physical_entry(self, record_id: str, mileage: int, police_number: str | None = None) -> Reply:
        body: dict[str, Any] = {"mileage": mileage}
        if police_number is not None:
            body["police_number"] = police_number
        return self.request("POST", f"{API}/vehicles/{_id(record_id)}/physical-entry", body)

    def add_frevo(self, record_id: str, label: str, amount: float) -> Reply:
        body = {"label": label, "amount": amount}
        return self.request("POST", f"{API}/vehicles/{_id(record_id)}/frevo", body)

    def update(self, record_id: str, **changes: Any) -> Reply:
        return self.request("PATCH", f"{API}/vehicles/{_id(record_id)}", changes)

    def push_fields(self, record_id: str, fields: Mapping[str, Any]) -> Reply:
        body = {"fields": dict(fields)}
        return self.request("POST", f"{API}/vehicles/{_id(record_id)}/openflex-writes", body)

    def invoice(self, record_id: str, customer: str, invoiced_sale_price: float,
                vat_recoverable: bool | None = None) -> Reply:
        body: dict[str, Any] = {"customer": customer, "invoiced_sale_price": invoiced_sale_price}
        if vat_recoverable is not None:
            body["vat_recoverable"] = vat_recoverable
        return self.request("POST", f"{API}/vehicles/{_id(record_id)}/invoices", body)

    def get_record(self, record_id: str) -> Reply:
        return self.request("GET", f"{API}/vehicles/{_id(record_id)}", record=False)

    def records(self, **filters: Any) -> Reply:
        """ICAR's records, filtered (`status`, `police_number`, `openflex_id`); at most 500."""
        return self.request("GET", f"{API}/vehicles", params={"limit": 500, **filters}, record=False)

    def journal(self, after: int = 0) -> Reply:
        params = {"after": after, "limit": 100_000}
        return self.request("GET", "/__admin/journal", params=params, record=False)

    def reset(self) -> Reply:
        return self.request("POST", "/__admin/reset", record=False)
