"""What one fake shows of itself to the dashboard: `GET /__admin/overview` (admin key).

Its vehicles (OpenFlex: the vehicles with their reservations, and each dealer's API VO
parameterization; ICAR: the DMS records), read through the backend's public methods, for
every dealer its keys name (or the one asked), and its request journal from a cursor,
each entry shaped for a reader: the actor's and the call's French labels, and for a
refusal its code, rules and the guide's sentence — all from the contract
(`contracts/data/`) and the fake's own API declarations, never written here. The
dashboard (`dashboard.py`) joins both fakes' views.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from icarflex.contracts import Contract, load_contract
from werkzeug.exceptions import HTTPException

PAGE = 500            # vehicles per listing call
MAX_VEHICLES = 2000   # per dealer: a dashboard is for a demo or a debug session, not a bulk export
LOG_TAIL = 150        # journal entries a fresh page starts with


def dealers_of(app: Flask) -> list[str]:
    """The dealers this fake's keys name (the admin key's dealer included), in key order."""
    return list(dict.fromkeys(entry["dealer"] for entry in app.config["KEYS"].values()))


def vehicles(context: Any, dealer: str) -> list[dict[str, Any]]:
    """Every vehicle (OpenFlex) or DMS record (ICAR) of `dealer`, through the backend's listing."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(items) < MAX_VEHICLES:
        page = _page(context, dealer, cursor)
        items += [{**item, "dealer": dealer} for item in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return items


def _page(context: Any, dealer: str, cursor: str | None) -> dict[str, Any]:
    if context.system == "icar":
        from icarflex.mocks.icar.schemas import models

        query = models(context.backend.contract).VehicleQuery(limit=PAGE, cursor=cursor)
        return context.backend.list_vehicles(dealer, query)
    return context.backend.list_vehicles(dealer, limit=PAGE, cursor=cursor)


def overview(context: Any, dealer: str | None, after: int | None) -> dict[str, Any]:
    """This fake's vehicles and its journal after `after` (None: the last LOG_TAIL entries)."""
    contract = load_contract()
    dealers = [dealer] if dealer else dealers_of(current_app)
    journal = context.journal
    entries = journal.tail(LOG_TAIL, dealer) if after is None else journal.entries(after, 1000, dealer)
    cursor = entries[-1]["seq"] if entries else (after or 0)
    if after is None and not entries:
        cursor = 0
    shown = {"system": context.system, "dealers": dealers_of(current_app),
             "vehicles": [v for d in dealers for v in vehicles(context, d)],
             "log": [log_entry(e, contract) for e in entries], "next_after": cursor}
    if context.system == "openflex":  # each dealer's parameterization: what the mapping is judged by
        shown["settings"] = {d: context.backend.get_settings(d) for d in dealers}
    return shown


def log_entry(entry: dict[str, Any], contract: Contract) -> dict[str, Any]:
    """A journal entry as the dashboard prints it: who, which call, what came of it."""
    response = entry.get("response") if isinstance(entry.get("response"), dict) else {}
    status = int(entry["status"])
    refused = status >= 400
    rules = list(response.get("rule") or []) if refused else []
    rules += [v["rule"] for v in entry.get("verdict") or [] if v.get("rule") and v["rule"] not in rules]
    upstream = response.get("upstream") if isinstance(response.get("upstream"), dict) else None
    code = response.get("code") if refused else None
    actor = entry.get("actor") or ""
    return {
        "seq": entry["seq"], "at": entry["at"], "system": entry["system"], "dealer": entry.get("dealer"),
        "actor": actor, "actor_label": contract.labels.actor(actor) if actor else "anonyme",
        "method": entry["method"], "path": entry["path"], "call": call_label(entry["method"], entry["path"]),
        "write": entry["method"] != "GET", "status": status, "refused": refused,
        "code": code, "code_title": _code_title(contract, code, response),
        "upstream_code": upstream.get("code") if upstream else None,
        "fields": list(response.get("fields") or []) if refused else [],
        "detail": response.get("detail") if refused else None,
        "rules": [rule_json(contract, r) for r in rules if r in contract.rules],
        "vehicle_id": entry.get("vehicle_id") or _vehicle_of(entry["path"], response),
    }


def rule_json(contract: Contract, rule_id: str) -> dict[str, str]:
    """A rule as a page prints it: its id, its title, the guide's sentence on one line."""
    rule = contract.rules[rule_id]
    return {"id": rule.id, "title": rule.title, "guide": " ".join(rule.guide.split())}


def _code_title(contract: Contract, code: str | None, response: dict[str, Any]) -> str | None:
    if code is None:
        return None
    known = contract.codes.get(code)
    return known.title if known else response.get("title") or code


def _vehicle_of(path: str, response: dict[str, Any]) -> str | None:
    parts = path.split("/")
    if len(parts) > 4 and parts[3] == "vehicles":
        return parts[4]
    return response.get("id") if isinstance(response.get("id"), str) else None


def call_label(method: str, path: str) -> str:
    """The French summary of the operation a request reached (the fake's API declarations)."""
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(path, method=method)
    except HTTPException:
        return f"{method} {path}"
    api = current_app.extensions["icarflex"].api
    operation = next((op for op in api.operations if endpoint.endswith("." + op.operation_id)), None)
    return operation.summary if operation else f"{method} {path}"
