"""The live dashboard, `/__admin/dashboard`: both systems side by side, served by either fake.

The page (mocks/common/pages/, no external asset) asks the fake that served it for
`GET /__admin/dashboard/state` every POLL_MS with the admin key (`?key=` in its URL, or
typed into the page). That fake answers with its own overview (overview.py, read in
process) and its peer's, fetched server-side from `PEER_URL/__admin/overview` with the
same key: the browser talks to one origin only, so no CORS is needed, and the page works
through a single forwarded port. `serve`, the demo and the in-process fakes tell each
fake where its peer answers (`introduce`); a fake without a peer shows its side alone.

The state joins each OpenFlex vehicle with its ICAR record (`openflex_id`): both
statuses with their French labels, whether the contract's mapping holds (R3), the police
number on both sides, reservations, publication, and the destination's lifeline with the
vehicle's place on it; and the request log of both fakes, newest last. Every label comes
from the contract (`contracts/data/`).
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, current_app, render_template, request
from icarflex.contracts import ApiVoSettings, Contract, ContractError, load_contract
from icarflex.mocks.common.api import render
from icarflex.mocks.common.auth import require
from icarflex.mocks.common.errors import ValidationFailed
from icarflex.mocks.common.overview import overview
from icarflex.mocks.common.transport import Transport, TransportError

PAGES = Path(__file__).parent / "pages"
POLL_MS = 250         # the page asks again this long after an answer: a write shows well within 1 s
PEER_TIMEOUT = 2.0    # seconds; a peer that does not answer is shown as such, the page goes on
SYSTEMS = ("openflex", "icar")
SYSTEM_NAMES = {"openflex": "OpenFlex", "icar": "ICAR DMS"}


def introduce(openflex: Any, icar: Any) -> None:
    """Tell two live fakes (objects with `.app` and `.url`) where the other one answers."""
    openflex.app.config["PEER_URL"] = icar.url
    icar.app.config["PEER_URL"] = openflex.url


def dashboard_url(server: Any) -> str:
    """The dashboard of a live fake with its admin key (the first admin key of its config)."""
    keys = server.app.config["KEYS"]
    admin = next((key for key, entry in keys.items() if entry["actor"] == "admin"), None)
    return f"{server.url}/__admin/dashboard" + (f"?key={admin}" if admin else "")


def dashboard_blueprint() -> Blueprint:
    bp = Blueprint("dashboard", __name__, url_prefix="/__admin", template_folder=str(PAGES),
                   static_folder=str(PAGES / "static"), static_url_path="/dashboard/static")

    @bp.get("/dashboard")
    def dashboard() -> str:
        """The page shell: no data and no key in it (the page fetches the state with its key)."""
        context = current_app.extensions["icarflex"]
        return render_template("dashboard.html", system=SYSTEM_NAMES[context.system],
                               labels=json.dumps(page_labels(load_contract()), ensure_ascii=False),
                               poll_ms=POLL_MS)

    @bp.get("/overview")
    def get_overview() -> Response:
        require("admin")
        return render(overview(current_app.extensions["icarflex"], _dealer(), _cursor("after")), 200)

    @bp.get("/dashboard/state")
    def state() -> Response:
        require("admin")
        return render(dashboard_state(_dealer(), {s: _cursor(f"after_{s}") for s in SYSTEMS}), 200)

    return bp


def _dealer() -> str | None:
    dealer = request.args.get("dealer") or None
    if dealer is not None and (len(dealer) > 64 or not dealer.replace("-", "").replace("_", "").isalnum()):
        raise ValidationFailed("Concessionnaire invalide (lettres, chiffres, - et _)", fields=["dealer"])
    return dealer


def _cursor(name: str) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationFailed(f"{name} : un entier positif", fields=[name])
    return int(raw)


def dashboard_state(dealer: str | None, after: dict[str, int | None]) -> dict[str, Any]:
    """Both systems' overviews joined: the rows of the vehicle table and the merged log."""
    context = current_app.extensions["icarflex"]
    sides: dict[str, dict[str, Any]] = {}
    sides[context.system] = {"ok": True, "url": request.host_url.rstrip("/"),
                             **overview(context, dealer, after[context.system])}
    peer_system = next(s for s in SYSTEMS if s != context.system)
    sides[peer_system] = _peer_overview(current_app, dealer, after[peer_system])
    contract = load_contract()
    dealers = list(dict.fromkeys(d for side in sides.values() for d in side.get("dealers", [])))
    log = sorted((e for side in sides.values() for e in side.get("log", [])),
                 key=lambda e: (e["at"], e["system"]))
    return {"generated_at": datetime.now(UTC).isoformat(timespec="milliseconds"), "dealer": dealer,
            "dealers": dealers,
            "systems": {s: {"name": SYSTEM_NAMES[s], "ok": sides[s]["ok"], "url": sides[s].get("url"),
                            "error": sides[s].get("error"), "next_after": sides[s].get("next_after")}
                        for s in SYSTEMS},
            "vehicles": join(sides["openflex"].get("vehicles", []), sides["icar"].get("vehicles", []),
                             contract, both_known=sides["openflex"]["ok"] and sides["icar"]["ok"],
                             settings=_settings(contract, sides["openflex"].get("settings"))),
            "log": log}


def _peer_overview(app: Flask, dealer: str | None, after: int | None) -> dict[str, Any]:
    peer = app.config.get("PEER_URL")
    if not peer:
        return {"ok": False, "error": "non relié à ce fake (lancez les deux avec icarflex serve)"}
    params = {k: v for k, v in (("dealer", dealer), ("after", after)) if v is not None}
    try:
        reply = _transport(app, peer).request(
            "GET", "/__admin/overview", params=params,
            headers={"Authorization": request.headers.get("Authorization", "")})
    except TransportError as exc:
        return {"ok": False, "url": peer, "error": f"injoignable ({exc})"}
    if reply.status != 200:
        return {"ok": False, "url": peer, "error": f"a répondu {reply.status}"}
    return {"ok": True, "url": peer, **orjson.loads(reply.content)}


def _transport(app: Flask, peer: str) -> Transport:
    """The app's keep-alive connections to its peer (the one HTTP transport of icarflex)."""
    kept = app.extensions.get("icarflex_dashboard_peer")
    if kept is None or kept.base_url != peer.rstrip("/"):
        kept = app.extensions["icarflex_dashboard_peer"] = Transport(peer, timeout=PEER_TIMEOUT, maxsize=4)
    return kept


def _settings(contract: Contract, documents: Any) -> dict[str, ApiVoSettings]:
    """Each dealer's parameterization, from OpenFlex's overview (`GET /settings/api-vo` shapes)."""
    base, found = ApiVoSettings.defaults(contract), {}
    for dealer, document in (documents or {}).items():
        try:
            found[dealer] = base.merge(document, source=f"settings of {dealer}")
        except ContractError:
            continue  # not our shape: the guide's defaults judge that dealer's mapping
    return found


# --- the join -------------------------------------------------------------------------------
def join(openflex: list[dict[str, Any]], icar: list[dict[str, Any]], contract: Contract,
         both_known: bool = True, settings: dict[str, ApiVoSettings] | None = None) -> list[dict[str, Any]]:
    """One row per vehicle: OpenFlex's view beside ICAR's, and whether the mapping holds under
    the dealer's parameterization (`settings`, the guide's defaults for a dealer not in it; not
    judged while one side cannot be read)."""
    records = {(r["dealer"], r.get("openflex_id")): r for r in icar}
    default = ApiVoSettings.defaults(contract)

    def under(dealer: str) -> ApiVoSettings:
        return (settings or {}).get(dealer, default)
    rows = [_row(v, records.pop((v["dealer"], v["id"]), None), contract, both_known, under(v["dealer"]))
            for v in openflex]
    rows += [_row(None, record, contract, both_known, under(record["dealer"])) for record in records.values()]
    return rows


def _row(vehicle: dict[str, Any] | None, record: dict[str, Any] | None, contract: Contract,
         both_known: bool, settings: ApiVoSettings) -> dict[str, Any]:
    source = vehicle or record or {}
    status = vehicle.get("status") if vehicle else None
    expected = contract.icar_status_for(status) if status in contract.statuses else None
    icar_status = record.get("status") if record else None
    destination = vehicle.get("destination") if vehicle else None
    return {
        "dealer": source.get("dealer"), "id": vehicle["id"] if vehicle else None,
        "icar_id": record["id"] if record else None,
        "make": source.get("make"), "model": source.get("model"), "vin": source.get("vin"),
        "registration": source.get("registration"),
        "destination": destination, "destination_label": contract.labels.destination(destination),
        "openflex": _openflex_side(vehicle, contract),
        "icar": _icar_side(record, expected, contract),
        "mapping": _mapping(status, icar_status, contract, both_known, settings),
        "desync": _desync((record or {}).get("sync"), contract),
        "lifeline": _lifeline(destination, status, contract),
    }


def _openflex_side(vehicle: dict[str, Any] | None, contract: Contract) -> dict[str, Any] | None:
    if vehicle is None:
        return None
    status = vehicle.get("status")
    label = contract.statuses[status].label if status in contract.statuses else status
    return {"status": status, "label": label,
            "police_number": vehicle.get("police_number"), "published": bool(vehicle.get("published")),
            "reservations": [_reservation(r, contract) for r in vehicle.get("reservations") or []],
            "reconciliation": vehicle.get("reconciliation"), "version_tag": vehicle.get("version_tag")}


def _reservation(reservation: dict[str, Any], contract: Contract) -> dict[str, Any]:
    blocking = contract.vehicle.reservations.blocking
    is_blocking = all(reservation.get(k) == v for k, v in blocking.items())
    return {"id": reservation.get("id"), "kind": reservation.get("kind"),
            "blocks_sale": bool(reservation.get("blocks_sale")),
            "blocks_publication": bool(reservation.get("blocks_publication")),
            "label": contract.lifeline.preconditions["sale_channel"].label if is_blocking
            else contract.labels.reservations.get(reservation.get("kind") or "", reservation.get("kind"))}


def _icar_side(record: dict[str, Any] | None, expected: str | None, contract: Contract) -> dict[str, Any]:
    status = record.get("status") if record else None
    invoice = (record or {}).get("invoice") or {}
    labels = {s: status.label for s, status in contract.icar_statuses.items()}
    return {"status": status, "label": labels.get(status or "", status), "expected": expected,
            "expected_label": labels.get(expected or ""),
            "police_number": record.get("police_number") if record else None,
            "invoice": invoice.get("number"), "sync": _sync(record, contract)}


def _sync(record: dict[str, Any] | None, contract: Contract) -> dict[str, Any] | None:
    sync = (record or {}).get("sync")
    if not sync:
        return None
    return {**sync, "outcome_label": contract.labels.sync_outcomes.get(sync["outcome"], sync["outcome"])}


def _mapping(status: str | None, icar_status: str | None, contract: Contract, both_known: bool,
             settings: ApiVoSettings) -> dict[str, Any]:
    """Does the ICAR status follow the OpenFlex one (the many-to-one mapping, rule R3), or wait for
    a step the dealer's parameterization leaves to OpenFlex (lifeline.yaml `icar_pending`)?"""
    rule = contract.rule_for("status_mapping")
    if not both_known:
        return {"holds": None, "rule": rule}
    if status is None:
        return {"holds": False, "rule": rule, "why": "absent"}
    if icar_status is None:  # not matched yet: ICAR does not know the vehicle before the match
        return {"holds": status == contract.entry_status, "rule": rule, "why": "unknown"}
    known = status in contract.statuses
    holds = known and icar_status in contract.icar_statuses_for(status, settings)
    pending = contract.pending_mapping(status, icar_status, settings) if holds else None
    if pending is not None:
        return {"holds": True, "rule": rule, "why": "pending", "pending": pending.reason}
    return {"holds": holds, "rule": rule, "why": None if holds else "differs"}


def _desync(sync: dict[str, Any] | None, contract: Contract) -> dict[str, Any] | None:
    """ICAR's last operation refused by OpenFlex or never received: the two systems disagree
    until it is replayed (the rule `checks.desynchronisation` names, when the contract has one)."""
    rule = contract.rules_data.checks.get("desynchronisation")
    if not rule or not sync or sync.get("outcome") == "OK":
        return None
    return {"rule": rule, "title": contract.rules[rule].title, "operation": sync.get("operation"),
            "outcome": contract.labels.sync_outcomes.get(sync["outcome"], sync["outcome"])}


def _lifeline(destination: str | None, status: str | None, contract: Contract) -> list[dict[str, Any]]:
    line = contract.lifeline.lifelines.get(destination or "", ())
    place = line.index(status) if status in line else -1
    return [{"status": s, "label": contract.statuses[s].label,
             "icar_label": contract.icar_statuses[contract.icar_status_for(s)].label,
             "state": "done" if i < place else ("current" if i == place else "todo")}
            for i, s in enumerate(line)]


def page_labels(contract: Contract) -> dict[str, Any]:
    """What the page prints that is not in a state: rule sentences, words (from the contract)."""
    return {"words": contract.labels.words, "systems": SYSTEM_NAMES,
            "mapping_rule": contract.rules[contract.rule_for("status_mapping")].title,
            "reservation": contract.lifeline.preconditions["sale_channel"].label,
            "published": contract.vehicle.fields["published"].label,
            "police_number": contract.rows["police_number"].label,
            "destination": contract.rows["destination"].label,
            "dealers_all": "Tous les concessionnaires"}
