"""The dashboard's data over real HTTP: each fake's overview, and the state that joins both
(served by either fake, the peer read server-side), with the contract's French labels."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from icarflex.contracts import load_contract
from icarflex.scenarios.fakes import LocalFakes, local_fakes

from tests.mocks.common.dashboard_support import (
    ADMIN,
    DMS,
    ICAR_USER,
    OPENFLEX_USER,
    create_case,
    create_vehicle,
    match,
    physical_entry,
)

CONTRACT = load_contract()


@pytest.fixture(scope="module")
def fakes() -> Iterator[LocalFakes]:
    with local_fakes() as started:
        yield started


@pytest.fixture(scope="module")
def entered(fakes: LocalFakes) -> dict:
    """One vehicle through its physical entry, and one refused DMS write (R6)."""
    case = create_vehicle(fakes.openflex_url, 1)
    record = match(fakes.icar_url, case["vehicle"]["vin"])
    assert physical_entry(fakes.icar_url, record["id"], case["entry_mileage"]).status_code == 200
    refused = requests.patch(f"{fakes.openflex_url}/api/v1/vehicles/{case['id']}", headers=DMS, timeout=10,
                             json={"vin": case["other"]["vin"]})
    assert refused.status_code == 403
    return {**case, "record": record}


def state(url: str, **params: str) -> dict:
    reply = requests.get(f"{url}/__admin/dashboard/state", headers=ADMIN, params=params, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()


@pytest.mark.parametrize("system", ["openflex", "icar"])
def test_the_page_is_served_by_either_fake_without_an_external_asset(fakes: LocalFakes, system: str) -> None:
    url = fakes.openflex_url if system == "openflex" else fakes.icar_url
    page = requests.get(f"{url}/__admin/dashboard", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text
    for asset in ("dashboard.js", "dashboard.css"):
        assert requests.get(f"{url}/__admin/dashboard/static/{asset}", timeout=10).status_code == 200


@pytest.mark.parametrize("path", ["/__admin/overview", "/__admin/dashboard/state"])
@pytest.mark.parametrize("key", [None, "demo-openflex-key"])
def test_the_data_needs_the_admin_key(fakes: LocalFakes, path: str, key: str | None) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    reply = requests.get(f"{fakes.openflex_url}{path}", headers=headers, timeout=10)
    assert reply.status_code == (401 if key is None else 403)
    assert reply.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("system", ["openflex", "icar"])
def test_either_fake_joins_both_systems_for_a_vehicle(fakes: LocalFakes, entered: dict, system: str) -> None:
    url = fakes.openflex_url if system == "openflex" else fakes.icar_url
    found = state(url)
    assert all(side["ok"] for side in found["systems"].values()), found["systems"]
    row = next(r for r in found["vehicles"] if r["id"] == entered["id"])
    assert row["openflex"]["status"] == "ENTREE_PHYSIQUE"
    assert row["openflex"]["label"] == CONTRACT.statuses["ENTREE_PHYSIQUE"].label
    assert row["icar"]["status"] == "STOCK" and row["icar"]["label"] == CONTRACT.icar_statuses["STOCK"].label
    assert row["mapping"]["holds"] is True
    assert row["openflex"]["police_number"] == row["icar"]["police_number"] is not None
    places = {stop["status"]: stop["state"] for stop in row["lifeline"]}
    assert list(places) == list(CONTRACT.lifeline.lifelines[entered["vehicle"]["destination"]])
    assert places["PRE_RENTREE"] == "done" and places["ENTREE_PHYSIQUE"] == "current"


def test_a_refusal_in_the_log_carries_its_rule_and_the_guides_sentence(fakes: LocalFakes,
                                                                       entered: dict) -> None:
    log = state(fakes.icar_url)["log"]
    refusal = next(e for e in log
                   if e["refused"] and e["vehicle_id"] == entered["id"] and e["system"] == "openflex")
    assert refusal["code"] == "FIELD_NOT_MODIFIABLE" and refusal["fields"] == ["vin"]
    assert refusal["actor_label"] == CONTRACT.labels.actor("dms")
    rule = CONTRACT.rules["R6"]
    assert refusal["rules"] == [{"id": "R6", "title": rule.title, "guide": " ".join(rule.guide.split())}]


def test_the_log_goes_on_from_its_cursor(fakes: LocalFakes, entered: dict) -> None:
    first = state(fakes.openflex_url)
    cursors = {f"after_{s}": str(side["next_after"]) for s, side in first["systems"].items()}
    assert state(fakes.openflex_url, **cursors)["log"] == []
    create_vehicle(fakes.openflex_url, 2)
    new = state(fakes.openflex_url, **cursors)["log"]
    assert [e["call"] for e in new] == ["Créer un véhicule (Pré-Rentrée)"]


def test_an_entry_openflex_refused_shows_the_two_systems_desynchronised(fakes: LocalFakes) -> None:
    created = requests.post(f"{fakes.openflex_url}/api/v1/vehicles", headers=OPENFLEX_USER, timeout=10, json={
        **create_case(3)["vehicle"], "vin": "XXX1234567ABCDEFG", "registration": None,
        "purchase_source": "ACHAT_DIRECT"}).json()
    assert created["reconciliation"] == "NOT_RECONCILED"
    record = requests.post(f"{fakes.icar_url}/api/v1/vehicles/match", headers=ICAR_USER, timeout=10,
                           json={"openflex_id": created["id"]}).json()
    assert physical_entry(fakes.icar_url, record["id"], 43_000).status_code == 502  # OpenFlex refuses (R2)
    row = next(r for r in state(fakes.openflex_url)["vehicles"] if r["id"] == created["id"])
    rule = CONTRACT.rule_for("desynchronisation")
    assert row["desync"] == {"rule": rule, "title": CONTRACT.rules[rule].title, "operation": "physical_entry",
                             "outcome": CONTRACT.labels.sync_outcomes["REFUSED"]}
    rows = state(fakes.openflex_url)["vehicles"]
    assert next(r for r in rows if r["openflex"]["status"] != "PRE_RENTREE")["desync"] is None


def test_a_dealer_filter_shows_only_that_dealers_vehicles(fakes: LocalFakes, entered: dict) -> None:
    assert {"demo", "demo2"} <= set(state(fakes.openflex_url)["dealers"])
    assert state(fakes.openflex_url, dealer="demo2")["vehicles"] == []
    assert state(fakes.openflex_url, dealer="demo")["vehicles"]


def test_a_bad_dealer_or_cursor_is_a_problem_naming_it(fakes: LocalFakes) -> None:
    for params, field in (({"dealer": "x'; --"}, "dealer"), ({"after_icar": "-1"}, "after_icar")):
        reply = requests.get(f"{fakes.openflex_url}/__admin/dashboard/state", headers=ADMIN, params=params,
                             timeout=10)
        assert reply.status_code == 422 and reply.json()["fields"] == [field]


def test_a_fake_without_its_peer_shows_its_own_side_and_says_why(fakes: LocalFakes, entered: dict) -> None:
    app = fakes.icar.app
    peer, app.config["PEER_URL"] = app.config["PEER_URL"], None
    try:
        found = state(fakes.icar_url)
    finally:
        app.config["PEER_URL"] = peer
    assert found["systems"]["icar"]["ok"] and not found["systems"]["openflex"]["ok"]
    assert found["systems"]["openflex"]["error"]
    assert found["vehicles"]
    assert all(row["mapping"]["holds"] is None for row in found["vehicles"])  # not judged


def test_serve_prints_the_dashboards_full_url_and_it_answers(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "icarflex.scenarios.cli", "serve", "--openflex-port", "0",
                             "--icar-port", "0", "--db", str(tmp_path / "db.sqlite3"), "--threads", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = None
        for line in proc.stdout:  # type: ignore[union-attr]
            found = re.search(r"Tableau de bord : (http://\S+)", line)
            if found:
                url = found.group(1)
                break
        assert url and "/__admin/dashboard?key=demo-admin-key" in url
        key = url.split("key=")[1]
        base = url.split("/__admin/")[0]
        assert requests.get(url, timeout=10).status_code == 200
        reply = requests.get(f"{base}/__admin/dashboard/state", headers={"Authorization": f"Bearer {key}"},
                             timeout=10)
        assert all(side["ok"] for side in reply.json()["systems"].values())
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)


def test_a_vehicle_invoiced_in_icar_and_still_delivered_in_openflex_holds_only_where_the_row_is_non() -> None:
    """« Sortie des véhicules en statut livraison » at NON (docs/decisions.md): ICAR invoiced while
    OpenFlex waits for the user's exit is the pending mapping of lifeline.yaml, judged under the
    dealer's own parameterization; flipped back to OUI, the same pair diverges."""
    from icarflex.mocks.icar.lifecycle import lifecycle
    from icarflex.profiles import path_of

    life = lifecycle(CONTRACT)
    with local_fakes(path_of("exit-in-openflex")) as fakes:
        case = create_vehicle(fakes.openflex_url, 7)
        record = match(fakes.icar_url, case["vehicle"]["vin"])
        assert physical_entry(fakes.icar_url, record["id"], case["entry_mileage"]).status_code == 200
        vehicle_url = f"{fakes.openflex_url}/api/v1/vehicles/{case['id']}"
        for method, url, body in (
                ("POST", f"{vehicle_url}/reservations", dict(CONTRACT.vehicle.reservations.blocking)),
                ("PATCH", vehicle_url, {"status": life.delivered})):
            reply = requests.request(method, url, headers=OPENFLEX_USER, json=body, timeout=10)
            assert reply.status_code in (200, 201), reply.text
        invoice = requests.post(f"{fakes.icar_url}/api/v1/vehicles/{record['id']}/invoices",
                                headers=ICAR_USER, timeout=10,
                                json={"customer": case["buyer"],
                                      "invoiced_sale_price": case["invoice_price"]})
        assert invoice.status_code == 201, invoice.text
        row = next(r for r in state(fakes.openflex_url)["vehicles"] if r["id"] == case["id"])
        assert (row["openflex"]["status"], row["icar"]["status"]) == (life.delivered, life.invoiced)
        pending = CONTRACT.pending_mapping(life.delivered, life.invoiced, {life.exit_gate: False})
        assert pending is not None
        assert row["mapping"] == {"holds": True, "rule": CONTRACT.rule_for("status_mapping"),
                                  "why": "pending", "pending": pending.reason}
        flip = requests.put(f"{fakes.openflex_url}/api/v1/settings/api-vo", headers=ADMIN, timeout=10,
                            json={"capabilities": {life.exit_gate: True}})
        assert flip.status_code == 200, flip.text
        row = next(r for r in state(fakes.icar_url)["vehicles"] if r["id"] == case["id"])
        assert (row["mapping"]["holds"], row["mapping"]["why"]) == (False, "differs")
