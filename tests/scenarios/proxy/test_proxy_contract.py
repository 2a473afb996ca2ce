"""The proxy judges by its own profile: a target that lets a forbidden write through is caught, and
`--enforce` answers the forbidden call with the contract's problem+json before it reaches the target."""
from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import requests
from icarflex.scenarios.cli import main
from proxy_helpers import NEW_VEHICLE, key, proxy_journal, target_journal

NEW_VIN = "VF1RFB00X87654321"


@pytest.fixture
def dms_may_write_vin(tmp_path: Path) -> str:
    """A permissive target's profile: the DMS may write the VIN (the guide says NON)."""
    profile = tmp_path / "permissive.yaml"
    profile.write_text("fields:\n  vin: {dms_modifiable: true}\n", encoding="utf-8")
    return str(profile)


def _create_vehicle(url: str) -> str:
    reply = requests.post(f"{url}/api/v1/vehicles", json=NEW_VEHICLE, headers=key("openflex"), timeout=10)
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def _check(journal: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["check", journal])
    return code, out.getvalue()


def test_a_write_the_target_lets_through_is_a_violation(start_openflex, start_proxy, dms_may_write_vin):
    target = start_openflex(PROFILE=dms_may_write_vin)
    shown = []
    proxy = start_proxy(target.url, show=lambda entry, findings: shown.append((entry, findings)))
    vehicle_id = _create_vehicle(proxy.url)

    reply = requests.patch(f"{proxy.url}/api/v1/vehicles/{vehicle_id}", json={"vin": NEW_VIN},
                           headers=key("dms"), timeout=10)

    assert reply.status_code == 200 and reply.json()["vin"] == NEW_VIN  # the target accepted it
    entry = proxy_journal(proxy)[-1]
    assert entry["vehicle_before"]["vin"] == NEW_VEHICLE["vin"] and entry["vehicle_after"]["vin"] == NEW_VIN
    assert [(v["rule"], v["field"]) for v in entry["verdict"]] == [("R6", "vin")]
    assert [(a["kind"], a["rule"], a["field"]) for a in entry["audit"]] == [("violation", "R6", "vin")]
    entry_shown, findings = shown[-1]
    assert entry_shown["seq"] == entry["seq"] and [f.kind for f in findings] == ["violation"]
    code, out = _check(proxy.options.journal)
    assert code == 1
    assert "✗ violation R6 vin — dms PATCH /api/v1/vehicles/" in out and "1 violation(s)" in out


def test_enforce_refuses_the_forbidden_write_before_the_target_sees_it(start_openflex, start_proxy,
                                                                       dms_may_write_vin):
    target = start_openflex(PROFILE=dms_may_write_vin)
    proxy = start_proxy(target.url, enforce=True)
    vehicle_id = _create_vehicle(proxy.url)

    reply = requests.patch(f"{proxy.url}/api/v1/vehicles/{vehicle_id}", json={"vin": NEW_VIN},
                           headers=key("dms"), timeout=10)

    assert reply.status_code == 403 and reply.headers["Content-Type"] == "application/problem+json"
    problem = reply.json()
    assert (problem["code"], problem["rule"], problem["fields"]) == ("FIELD_NOT_MODIFIABLE", ["R6"], ["vin"])
    assert problem["label"] == "Châssis VO"
    patches = [e for e in target_journal(target.url) if e["method"] == "PATCH"]
    assert patches == []  # never reached the target
    kept = requests.get(f"{target.url}/api/v1/vehicles/{vehicle_id}", headers=key("openflex"), timeout=10)
    assert kept.json()["vin"] == NEW_VEHICLE["vin"]
    entry = proxy_journal(proxy)[-1]
    assert (entry["answered_by"], entry["status"], entry["response"]["code"]) == ("proxy", 403,
                                                                                 "FIELD_NOT_MODIFIABLE")
    code, out = _check(proxy.options.journal)
    assert code == 0 and "· attempt R6 vin" in out  # refused (by the proxy): an attempt, not a violation


def test_enforce_answers_as_the_fake_itself_would(start_openflex, start_proxy):
    target = start_openflex()
    proxy = start_proxy(target.url, enforce=True)
    vehicle_id = _create_vehicle(proxy.url)
    call = {"json": {"vin": NEW_VIN, "registration": "ZZ-999-ZZ"}, "headers": key("dms"), "timeout": 10}

    blocked = requests.patch(f"{proxy.url}/api/v1/vehicles/{vehicle_id}", **call)
    refused = requests.patch(f"{target.url}/api/v1/vehicles/{vehicle_id}", **call)

    assert blocked.status_code == refused.status_code == 403
    assert blocked.json() == refused.json()


def test_enforce_forwards_what_the_contract_allows(start_openflex, start_proxy):
    target = start_openflex()
    proxy = start_proxy(target.url, enforce=True)
    vehicle_id = _create_vehicle(proxy.url)

    reply = requests.patch(f"{proxy.url}/api/v1/vehicles/{vehicle_id}", json={"mileage": 42_000},
                           headers=key("dms"), timeout=10)

    assert reply.status_code == 200 and reply.json()["mileage"] == 42_000
    assert [e["method"] for e in target_journal(target.url) if e["method"] == "PATCH"] == ["PATCH"]
