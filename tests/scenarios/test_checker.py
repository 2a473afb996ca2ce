"""The checker audits journal entries with the rule engine: a planted violation is flagged, a clean
journal is not, refusals are listed as attempts, and ICAR never runs ahead of OpenFlex."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from icarflex.contracts import ApiVoSettings, load_contract
from icarflex.scenarios.checker import ATTEMPT, STATUS_MISMATCH, VIOLATION, check_journal, read_journal
from icarflex.scenarios.cli import main

CONTRACT = load_contract()
VEHICLE = {"id": "VEH-1", "status": "ENTREE_PHYSIQUE", "destination": "PARTICULIER", "origin": "PARTICULIER",
           "purchase_source": "REPRISE", "vin": "VF1RFB00X56123456", "registration": "GH-123-JK",
           "police_number": "PARIS16-2025-000001", "mileage": 42000, "reconciliation": "RECONCILED",
           "reservations": [], "invoiced_sale_price": None}
DMS_FORBIDDEN = [row.id for row in CONTRACT.rows_of("field") if not row.default]


def entry(seq: int, actor: str, method: str, path: str, status: int, request: Any = None,
          before: dict | None = None, response: Any = None, system: str = "openflex",
          at: str | None = None) -> dict[str, Any]:
    return {"seq": seq, "at": at or f"2025-06-30T10:00:{seq:02d}.000+00:00", "system": system,
            "dealer": "demo", "actor": actor, "method": method, "path": path, "request": request,
            "status": status, "response": response, "vehicle_before": before, "vehicle_id": "VEH-1",
            "verdict": []}


def clean_journal() -> list[dict[str, Any]]:
    trade_in = {k: VEHICLE[k] for k in ("destination", "origin", "vin", "registration", "mileage")}
    return [
        entry(1, "mobile_app", "POST", "/api/v1/opportunities/OPP-1/trade-ins", 201, trade_in,
              response={**VEHICLE, "status": "PRE_RENTREE"}),
        entry(2, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200,
              {"status": "ENTREE_PHYSIQUE", "police_number": "PARIS16-2025-000001", "mileage": 42010},
              before={**VEHICLE, "status": "PRE_RENTREE", "police_number": None}),
        entry(3, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200, {"frevo_realised": 350.0}, before=VEHICLE),
        entry(4, "openflex_user", "GET", "/api/v1/vehicles/VEH-1", 200, response=VEHICLE),
    ]


def test_a_clean_journal_has_no_violation() -> None:
    assert [f for f in check_journal(clean_journal()) if f.failing] == []


PLANTED = {"registration": "PL-123-AN"}  # a valid plate: only R6 is broken


@pytest.mark.parametrize("field", DMS_FORBIDDEN)
def test_an_accepted_dms_write_of_a_forbidden_field_is_flagged(field: str) -> None:
    value = PLANTED.get(field, "PLANTED")
    planted = entry(9, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200, {field: value}, before=VEHICLE)
    findings = check_journal([*clean_journal(), planted])
    flagged = [f for f in findings if f.kind == VIOLATION]
    assert [(f.rule, f.field, f.actor, f.seq) for f in flagged] == [("R6", field, "dms", 9)]
    assert flagged[0].request == {field: value}


def test_the_same_write_is_clean_under_a_profile_that_allows_it() -> None:
    planted = entry(9, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200, {"vin": "VF3AAAAA012345678"},
                    before=VEHICLE)
    allowing = ApiVoSettings.defaults().merge({"fields": {"vin": {"dms_modifiable": True}}})
    assert not [f for f in check_journal([planted], allowing) if f.failing]


def test_a_refused_write_is_listed_as_an_attempt_not_a_violation() -> None:
    refused = entry(9, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 403, {"vin": "VF3AAAAA012345678"},
                    before=VEHICLE,
                    response={"code": "FIELD_NOT_MODIFIABLE", "rule": ["R6"], "fields": ["vin"]})
    findings = check_journal([refused])
    assert [(f.kind, f.rule, f.field) for f in findings] == [(ATTEMPT, "R6", "vin")]
    assert not any(f.failing for f in findings)


def test_an_accepted_exit_without_reservation_is_flagged_as_rule_r5() -> None:
    delivered = {**VEHICLE, "status": "LIVRAISON", "destination": "MARCHAND", "reservations": []}
    planted = entry(9, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200,
                    {"status": "SORTIE", "invoiced_sale_price": 3900.0}, before=delivered)
    assert [(f.rule, f.field) for f in check_journal([planted]) if f.failing] == [("R5", "reservations")]


def test_a_settings_change_in_the_journal_is_followed() -> None:
    delivered = {**VEHICLE, "status": "LIVRAISON", "destination": "CASSE",
                 "reservations": [{"kind": "UNLIMITED", "blocks_sale": True, "blocks_publication": True}]}
    flip = entry(8, "admin", "PUT", "/api/v1/settings/api-vo", 200,
                 {"settings": {"uc_price_editable": False}})
    invoice = entry(9, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200,
                    {"status": "SORTIE", "invoiced_sale_price": 1.0}, before=delivered)
    assert not [f for f in check_journal([invoice]) if f.failing]
    flagged = [(f.rule, f.row) for f in check_journal([flip, invoice]) if f.failing]
    assert flagged == [("R7", "uc_price_editable")]


def test_icar_ahead_of_openflex_is_flagged() -> None:
    openflex = entry(1, "openflex_user", "GET", "/api/v1/vehicles/VEH-1", 200,
                     response={**VEHICLE, "status": "STOCK_VENTE"})
    icar = entry(1, "icar_user", "POST", "/api/v1/vehicles/ICAR-1/invoices", 201, system="icar",
                 response={"id": "ICAR-1", "openflex_id": "VEH-1", "status": "FACTURE"},
                 at="2025-06-30T10:00:05.000+00:00")
    findings = [f for f in check_journal([openflex, icar]) if f.kind == STATUS_MISMATCH]
    assert findings and "en avance" in findings[0].message and findings[0].failing


def test_icar_in_step_with_openflex_is_clean() -> None:
    openflex = entry(1, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200, {"frevo_realised": 1.0},
                     before=VEHICLE, response=VEHICLE)
    icar = entry(1, "icar_user", "POST", "/api/v1/vehicles/ICAR-1/frevo", 201, system="icar",
                 response={"id": "ICAR-1", "openflex_id": "VEH-1", "status": "STOCK"},
                 at="2025-06-30T10:00:05.000+00:00")
    assert not [f for f in check_journal([openflex, icar]) if f.failing]


def write_jsonl(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    return path


def test_check_command_exits_non_zero_on_a_planted_violation(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    planted = entry(9, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200, {"vin": "VF3AAAAA012345678"},
                    before=VEHICLE)
    assert main(["check", str(write_jsonl(tmp_path / "clean.jsonl", clean_journal()))]) == 0
    capsys.readouterr()
    bad = write_jsonl(tmp_path / "bad.jsonl", [*clean_journal(), planted])
    assert main(["check", str(bad), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["violations"] == 1
    assert report["findings"][0]["rule"] == "R6" and report["findings"][0]["field"] == "vin"
    assert main(["check", str(bad)]) == 1
    assert "violation R6 vin" in capsys.readouterr().out


def test_read_journal_accepts_json_lines_and_an_admin_page() -> None:
    lines = [json.dumps(e) for e in clean_journal()]
    page = json.dumps({"items": clean_journal(), "next_after": 4})
    assert len(read_journal(lines)) == len(read_journal([page])) == 4


def test_a_journal_recorded_by_the_fakes_is_clean_and_lists_every_twins_attempt(
        fakes, full_run, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    import requests

    admin = {"Authorization": "Bearer demo-admin-key"}
    params = {"format": "jsonl", "limit": 100_000}
    lines = "".join(requests.get(f"{url}/__admin/journal", params=params, headers=admin, timeout=10).text
                    for url in (fakes.openflex_url, fakes.icar_url))
    journal = tmp_path / "journal.jsonl"
    journal.write_text(lines, encoding="utf-8")
    assert main(["check", str(journal), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    attempts = {(f["rule"], f["field"]) for f in report["findings"] if f["kind"] == ATTEMPT}
    twin_rules = {rule for s in full_run.scenarios if s.kind == "twin" and not s.skipped for rule in s.rules}
    assert twin_rules <= {rule for rule, _ in attempts}
    expected = {("R6", "vin"), ("R3", "police_number"), ("R5", "reservations"), ("R7", "invoiced_sale_price")}
    assert expected <= attempts


# --- journals captured in front of real systems: no vehicle_before ---------------------
@pytest.mark.parametrize("field", DMS_FORBIDDEN)
def test_a_forbidden_write_without_vehicle_before_is_still_flagged(field: str) -> None:
    planted = entry(9, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200, {field: PLANTED.get(field, "PLANTED")})
    flagged = [f for f in check_journal([planted]) if f.failing]
    assert [(f.rule, f.field, f.actor) for f in flagged] == [("R6", field, "dms")]


def test_a_status_move_without_vehicle_before_is_judged_on_the_last_answer_seen() -> None:
    seen = entry(1, "openflex_user", "GET", "/api/v1/vehicles/VEH-1", 200,
                 response={**VEHICLE, "status": "STOCK_VENTE"})
    exit_without_delivery = entry(2, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200,
                                  {"status": "SORTIE", "invoiced_sale_price": 9000})
    flagged = [f for f in check_journal([seen, exit_without_delivery]) if f.failing]
    assert [(f.code, f.field) for f in flagged] == [("TRANSITION_NOT_ALLOWED", "status")]


def test_a_status_move_on_an_unknown_vehicle_is_reported_unjudged_not_passed_silently() -> None:
    move = entry(2, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200, {"status": "SORTIE"})
    findings = check_journal([move])
    assert [(f.kind, f.field) for f in findings] == [("unjudged", "status")]
    assert not [f for f in findings if f.failing]


def test_an_admin_settings_change_is_followed_like_the_api_one() -> None:
    opened = entry(1, "admin", "PUT", "/__admin/settings/demo", 200,
                   {"fields": {"vin": {"dms_modifiable": True}}})
    write = entry(2, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200, {"vin": "VF3AAAAA012345678"},
                  before=VEHICLE)
    assert not [f for f in check_journal([opened, write]) if f.failing]
    reset = entry(3, "admin", "POST", "/__admin/reset", 200)
    again = {**write, "seq": 4}
    flagged = [(f.rule, f.field) for f in check_journal([opened, write, reset, again]) if f.failing]
    assert flagged == [("R6", "vin")]


@pytest.mark.parametrize("line", ["[1, 2]", '"text"', '{"path": "/api/v1/vehicles"}',
                                  '{"method": "GET", "path": "/x", "status": "200"}'])
def test_a_malformed_journal_line_is_refused_with_its_line_number(line: str) -> None:
    with pytest.raises(ValueError, match="ligne 2"):
        read_journal(["", line])
