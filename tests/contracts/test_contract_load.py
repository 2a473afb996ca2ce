"""The contract loads, holds the guide's rows and mapping, and a malformed file fails naming its row."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from guide_source import seed_table
from icarflex.contracts import ContractError, load_contract

CONTRACT = load_contract()


def guide_rows() -> list[list[str]]:
    return seed_table()


def test_the_parameterization_has_the_guide_rows_in_order(contract):
    assert [row.guide_label for row in contract.parameterization.rows] == [r[0] for r in guide_rows()]
    assert len(contract.parameterization.rows) == 21


def test_the_parameterization_holds_17_fields_2_settings_2_capabilities(contract):
    kinds = Counter(row.kind for row in contract.parameterization.rows)
    assert kinds == {"field": 17, "setting": 2, "capability": 2}


@pytest.mark.parametrize("row", CONTRACT.rows_of("field"), ids=lambda row: row.id)
def test_every_field_row_is_a_writable_vehicle_field(contract, row):
    spec = contract.vehicle.fields[row.id]
    assert not spec.read_only


@pytest.mark.parametrize("row", CONTRACT.parameterization.rows, ids=lambda row: row.id)
def test_every_row_default_is_the_guide_value(row):
    assert row.default == (row.guide_value == "OUI")


# --- the status mapping (guide §1, rule R3) --------------------------------------
def test_entree_physique_and_stock_vente_are_both_stock_in_icar(contract):
    assert contract.icar_status_for("ENTREE_PHYSIQUE") == contract.icar_status_for("STOCK_VENTE") == "STOCK"


@pytest.mark.parametrize("status", list(CONTRACT.statuses), ids=str)
def test_every_openflex_status_maps_to_a_known_icar_status(contract, status):
    assert contract.icar_status_for(status) in contract.icar_statuses


def test_the_mapping_is_many_to_one_and_reaches_every_icar_status(contract):
    images = Counter(contract.icar_status_for(status) for status in contract.statuses)
    assert max(images.values()) > 1
    assert set(images) == set(contract.icar_statuses)


@pytest.mark.parametrize("destination", list(CONTRACT.lifeline.lifelines), ids=str)
def test_the_icar_status_never_goes_back_along_a_lifeline(contract, destination):
    order = list(contract.icar_statuses)
    positions = [order.index(contract.icar_status_for(s)) for s in contract.lifeline.lifelines[destination]]
    assert positions == sorted(positions)


@pytest.mark.parametrize("workflow", CONTRACT.workflows, ids=lambda w: w.id)
def test_every_workflow_step_names_known_rules(contract, workflow):
    assert all(rule in contract.rules for step in workflow.steps for rule in step.rules)
    assert workflow.steps[0].status == contract.entry_status


# --- a malformed contract fails at load, naming the file and the row ------------
Select = Callable[[dict[str, Any]], dict[str, Any]]
Corrupt = Callable[[dict[str, Any]], None]


def _by_id(rows: list[dict[str, Any]], row_id: str) -> dict[str, Any]:
    return next(row for row in rows if row.get("id") == row_id)


def _param_row(row_id: str) -> Select:
    return lambda data: _by_id(data["rows"], row_id)


def _transition(from_: str, to: str) -> Select:
    return lambda data: next(t for t in data["transitions"] if t.get("from") == from_ and t["to"] == to)


def _step(workflow: str, step: str) -> Select:
    return lambda data: _by_id(_by_id(data["workflows"], workflow)["steps"], step)


def _of(section: str, row_id: str) -> Select:
    return lambda data: _by_id(data[section], row_id)


def _pending(data: dict[str, Any], status: str) -> dict[str, Any]:
    return _by_id(data["statuses"], status)["icar_pending"][0]


def _set(select: Select, **values: Any) -> Corrupt:
    return lambda data: select(data).update(values)


def _rename(select: Select, old: str, new: str) -> Corrupt:
    def corrupt(data: dict[str, Any]) -> None:
        row = select(data)
        row[new] = row.pop(old)
    return corrupt


PE = ("PRE_RENTREE", "ENTREE_PHYSIQUE")
CORRUPTIONS = {  # id: (file, corruption, the row the message must name)
    "typo-key-in-row": ("parameterization.yaml", _rename(_param_row("vin"), "default", "defualt"), "vin"),
    "bad-guide-value": ("parameterization.yaml", _set(_param_row("mileage"), guide_value="PEUT-ÊTRE"),
                        "mileage"),
    "guide-value-contradicts-default": ("parameterization.yaml",
                                        _set(_param_row("origin"), guide_value="OUI"), "origin"),
    "field-row-without-vehicle-field": ("parameterization.yaml", _set(_param_row("vin"), id="vim"), "vim"),
    "duplicate-row-id": ("parameterization.yaml", _set(_param_row("registration"), id="vin"), "vin"),
    "unknown-actor-in-transition": ("lifeline.yaml", _set(_transition(*PE), actors=["dsm"]),
                                    "PRE_RENTREE->ENTREE_PHYSIQUE"),
    "typo-key-in-transition": ("lifeline.yaml", _rename(_transition(*PE), "requires", "requries"),
                               "PRE_RENTREE->ENTREE_PHYSIQUE"),
    "unknown-capability-in-transition": ("lifeline.yaml", _set(_transition("LIVRAISON", "SORTIE"),
                                                               gated_actors={"dms": "exit_from_delivry"}),
                                         "LIVRAISON->SORTIE"),
    "unknown-icar-status": ("lifeline.yaml", _set(_of("statuses", "STOCK_VENTE"), icar="STOK"),
                            "STOCK_VENTE"),
    "unknown-icar-status-pending": ("lifeline.yaml", _set(lambda d: _pending(d, "LIVRAISON"), icar="FACTUR"),
                                    "LIVRAISON"),
    "pending-on-unknown-row": ("lifeline.yaml", _set(lambda d: _pending(d, "LIVRAISON"),
                                                     when={"exit_from_delivry": False}), "LIVRAISON"),
    "pending-until-no-transition": ("lifeline.yaml", _set(lambda d: _pending(d, "LIVRAISON"),
                                                          until="STOCK_VENTE"), "LIVRAISON"),
    "workflow-step-icar-status-not-pending": ("workflows.yaml",
                                              _set(_step("sortie_openflex", "invoice_without_exit"),
                                                   icar_status="STOCK"), "invoice_without_exit"),
    "unknown-code-in-precondition": ("lifeline.yaml", _set(lambda d: d["preconditions"]["sale_channel"],
                                                           code="RESERVATION"), "sale_channel"),
    "precondition-of-two-kinds": ("lifeline.yaml", _set(lambda d: d["preconditions"]["police_number"],
                                                         not_in={"reconciliation": ["TO_CHECK"]}),
                                  "police_number"),
    "precondition-of-no-kind": ("lifeline.yaml", lambda d: d["preconditions"]["reconciled"].pop("not_in"),
                                "reconciled"),
    "precondition-on-unknown-field": ("lifeline.yaml", _set(lambda d: d["preconditions"]["police_number"],
                                                            present="police_numbr"), "police_number"),
    "precondition-not-in-unknown-value": ("lifeline.yaml", _set(lambda d: d["preconditions"]["reconciled"],
                                                                not_in={"reconciliation": ["NOPE"]}),
                                          "reconciled"),
    "precondition-unknown-reservation-shape": ("lifeline.yaml",
                                               _set(lambda d: d["preconditions"]["sale_channel"],
                                                    reservation=["dated"]), "sale_channel"),
    "lifeline-step-without-transition": ("lifeline.yaml",
                                         lambda d: d["lifelines"]["MARCHAND"].insert(2, "STOCK_VENTE"),
                                         "MARCHAND"),
    "unknown-status-in-workflow-step": ("workflows.yaml", _set(_step("casse", "physical_entry"),
                                                               status="ENTREE_PHYSIQU"), "physical_entry"),
    "unknown-rule-in-workflow-step": ("workflows.yaml", _set(_step("marchand", "reserve"), rules=["R55"]),
                                      "reserve"),
    "workflow-step-off-the-lifeline": ("workflows.yaml", _set(_step("marchand", "delivery"), status="SORTIE"),
                                       "delivery"),
    "unknown-workflow-destination": ("workflows.yaml", _set(_of("workflows", "casse"), destination="EPAVE"),
                                     "casse"),
    "typo-key-in-rule": ("rules.yaml", _rename(_of("rules", "R6"), "guide", "guid"), "R6"),
    "rule-on-unknown-point": ("rules.yaml", _set(_of("rules", "R5"), points=["reservaton"]), "R5"),
    "duplicate-rule-id": ("rules.yaml", _set(_of("rules", "R4"), id="R3"), "R3"),
    "typo-key-in-field-spec": ("vehicle.yaml", _set(lambda d: d["fields"]["mileage"], minimun=0), "mileage"),
    "vat-field-not-a-field": ("vehicle.yaml", lambda d: d.update(vat_field="tva_recuperable"),
                              "tva_recuperable"),
}


@pytest.mark.parametrize("file_name, corrupt, row", list(CORRUPTIONS.values()), ids=list(CORRUPTIONS))
def test_a_malformed_contract_fails_at_load_naming_file_and_row(data_copy, file_name, corrupt, row):
    path = data_copy / file_name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    corrupt(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ContractError) as failure:
        load_contract(data_copy)
    assert file_name in str(failure.value)
    assert row in str(failure.value)


def test_an_untouched_copy_loads(data_copy):
    assert load_contract(data_copy).rows.keys() == CONTRACT.rows.keys()


def test_invalid_yaml_fails_naming_the_file(data_copy):
    (data_copy / "rules.yaml").write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(ContractError, match="rules.yaml"):
        load_contract(data_copy)


def test_a_missing_file_fails_naming_it(data_copy):
    (data_copy / "workflows.yaml").unlink()
    with pytest.raises(ContractError, match="workflows.yaml"):
        load_contract(data_copy)


def test_renumbering_a_rule_in_checks_renumbers_the_engines_verdicts(data_copy: Path) -> None:
    from icarflex.contracts import ApiVoSettings, evaluate

    rules_file = data_copy / "rules.yaml"
    raw = yaml.safe_load(rules_file.read_text(encoding="utf-8"))
    raw["checks"]["dms_field_rights"] = "R8"
    rules_file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    contract = load_contract(data_copy)
    vehicle = {"id": "v", "status": "PRE_RENTREE", "destination": "PARTICULIER", "reservations": []}
    verdict = evaluate(contract, ApiVoSettings.defaults(contract), "dms", vehicle, {"destination": "CASSE"})
    assert [(v.rule, v.field) for v in verdict] == [("R8", "destination")]


def test_a_check_naming_an_unknown_rule_fails_at_load(data_copy: Path) -> None:
    rules_file = data_copy / "rules.yaml"
    raw = yaml.safe_load(rules_file.read_text(encoding="utf-8"))
    raw["checks"]["low_prices"] = "R99"
    rules_file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContractError, match=r"rules.yaml: checks.low_prices: unknown rule 'R99'"):
        load_contract(data_copy)
