"""The scenario files: tied to the contract's workflows, and a negative twin for every rule."""
from __future__ import annotations

from pathlib import Path

import pytest
from icarflex.contracts import load_contract
from icarflex.scenarios.actions import ACTIONS
from icarflex.scenarios.model import ScenarioError, load_scenario, load_scenarios

CONTRACT = load_contract()
SCENARIOS = load_scenarios()
TWINS = [twin for scenario in SCENARIOS.values() for twin in scenario.twins]


@pytest.mark.parametrize("workflow", [w.id for w in CONTRACT.workflows])
def test_every_contract_workflow_has_its_scenario_with_the_same_steps(workflow: str) -> None:
    scenario = SCENARIOS[workflow]
    assert [s.id for s in scenario.steps] == [s.id for s in CONTRACT.workflow[workflow].steps]
    assert all(step.contract.action in ACTIONS for step in scenario.steps)


# R10 (desynchronisation) is judged across both systems' journals, not on one write: its
# negative cases are tests/scenarios/test_desynchronisation.py, not a twin of a workflow.
CROSS_SYSTEM = {CONTRACT.rule_for("desynchronisation")}


@pytest.mark.parametrize("rule", [r.id for r in CONTRACT.rules_data.rules if r.id not in CROSS_SYSTEM])
def test_every_rule_of_the_contract_has_a_negative_twin(rule: str) -> None:
    assert any(rule in twin.rules for twin in TWINS), f"no negative twin proves {rule}"


@pytest.mark.parametrize("twin", TWINS, ids=[t.id for t in TWINS])
def test_twins_name_known_actions_and_codes(twin) -> None:  # noqa: ANN001
    assert twin.action in ACTIONS
    assert all(setup.action in ACTIONS for setup in twin.setup)
    assert CONTRACT.codes[twin.expect.refusal.code].status == twin.expect.refusal.status


def test_twin_ids_are_unique() -> None:
    ids = [t.id for t in TWINS]
    assert len(ids) == len(set(ids))


def test_a_scenario_step_that_is_not_the_contracts_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "casse.yaml"
    path.write_text("workflow: casse\nsteps:\n  - step: estimate\n  - step: teleport\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="casse.yaml: steps"):
        load_scenario(path, CONTRACT)


def test_a_twin_with_an_unknown_rule_is_refused(tmp_path: Path) -> None:
    source = (Path(SCENARIOS["casse"].path)).read_text(encoding="utf-8")
    path = tmp_path / "casse.yaml"
    path.write_text(source.replace("rule: R7, fields", "rule: R99, fields"), encoding="utf-8")
    with pytest.raises(ScenarioError, match="unknown rule 'R99'"):
        load_scenario(path, CONTRACT)
