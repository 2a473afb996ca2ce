"""The scenarios as data: `scenarios/data/workflows/*.yaml`, loaded and tied to the contract.

A scenario file adds, to one workflow of `contracts/data/workflows.yaml`, what the
contract leaves to the replay: each step's inputs and the expected state of both
systems after it, and the workflow's negative twins. The actor, the action, the
OpenFlex status and the rules of a step are the contract's and are not repeated:
a scenario step names its contract step by id. A twin replaces one contract step by
a forbidden attempt and states the refusal and the violations it must bring.
Loading fails fast, naming the file and the row, when a step, a rule, a code or an
actor refers to nothing in the contract.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from icarflex.contracts import Contract, ContractError, load_contract
from icarflex.contracts.models import Workflow, WorkflowStep
from icarflex.contracts.profile import parse_overlay
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DATA_DIR = Path(__file__).parent / "data" / "workflows"


class ScenarioError(ContractError):
    """A scenario file that does not fit the contract: names the file and the row."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expectation(Strict):
    """The state of both systems after a step, beyond the status the contract gives.

    `openflex` / `icar`: field → value, `$reference` or matcher ({present}, {pattern},
    {has}). `icar: absent` when ICAR does not know the vehicle yet.
    """

    openflex: dict[str, Any] = {}
    icar: dict[str, Any] | Literal["absent"] = {}


class ScenarioStep(Strict):
    step: str
    inputs: dict[str, Any] = {}
    expect: Expectation = Expectation()
    # The rows this step (and so whatever reaches it) relies on, beside the workflow's own.
    when: dict[str, Any] | None = None


class Refusal(Strict):
    """What OpenFlex answers a forbidden write (through ICAR: embedded in its 502)."""

    status: int
    code: str
    rule: str
    fields: tuple[str, ...] = ()
    row: str | None = None


class ExpectedViolation(Strict):
    """A violation the checker must find in the journal, recomputed by the rule engine."""

    rule: str
    field: str | None = None
    row: str | None = None


class TwinExpect(Strict):
    refusal: Refusal
    violations: tuple[ExpectedViolation, ...] = Field(min_length=1)


class Setup(Strict):
    actor: str
    action: str
    inputs: dict[str, Any] = {}


class NegativeTwin(Strict):
    id: str
    title: str
    instead_of: str
    actor: str
    action: str
    inputs: dict[str, Any] = {}
    setup: tuple[Setup, ...] = ()
    when: dict[str, Any] | None = None   # profile subset the twin's premise needs
    expect: TwinExpect

    @property
    def rules(self) -> tuple[str, ...]:
        found = [self.expect.refusal.rule, *(v.rule for v in self.expect.violations)]
        return tuple(dict.fromkeys(found))


class ScenarioFile(Strict):
    workflow: str
    # The rows of the parameterization the workflow relies on (a profile subset): under an
    # expected profile that turns one off, the workflow is not applicable and says why.
    when: dict[str, Any] | None = None
    steps: tuple[ScenarioStep, ...]
    negative_twins: tuple[NegativeTwin, ...] = ()


@dataclass(frozen=True)
class Step:
    """A contract step with the scenario's inputs and expectations."""

    contract: WorkflowStep
    inputs: dict[str, Any]
    expect: Expectation
    when: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return self.contract.id


@dataclass(frozen=True)
class Scenario:
    workflow: Workflow
    steps: tuple[Step, ...]
    twins: tuple[NegativeTwin, ...]
    path: Path
    when: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return self.workflow.id

    @cached_property
    def step_index(self) -> dict[str, int]:
        return {step.id: i for i, step in enumerate(self.steps)}

    def steps_before(self, step_id: str) -> tuple[Step, ...]:
        return self.steps[:self.step_index[step_id]]

    def premises(self, until: str | None = None) -> list[dict[str, Any]]:
        """The premises (profile subsets) of the whole workflow, or of what a replay up to the
        step `until` (included: a twin in its place inherits it) relies on."""
        steps = self.steps if until is None else self.steps[:self.step_index[until] + 1]
        return [p for p in (self.when, *(step.when for step in steps)) if p]


def load_scenarios(contract: Contract | None = None, data_dir: Path = DATA_DIR) -> dict[str, Scenario]:
    """Every scenario file, keyed by workflow id, in the contract's workflow order."""
    contract = contract or load_contract()
    found = {}
    for path in sorted(data_dir.glob("*.yaml")):
        scenario = load_scenario(path, contract)
        found[scenario.id] = scenario
    missing = [w.id for w in contract.workflows if w.id not in found]
    if missing:
        raise ScenarioError(f"{data_dir}: no scenario for workflow(s) {', '.join(missing)}")
    return {w.id: found[w.id] for w in contract.workflows}


def load_scenario(path: Path, contract: Contract) -> Scenario:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        data = ScenarioFile.model_validate(raw)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ScenarioError(f"{path.name}: {where}") from exc
    workflow = contract.workflow.get(data.workflow)
    if workflow is None:
        raise ScenarioError(f"{path.name}: workflow {data.workflow!r} is not in workflows.yaml")
    problems = _step_problems(workflow, data) + [
        f"twin {twin.id!r}: {problem}" for twin in data.negative_twins
        for problem in _twin_problems(contract, workflow, twin)]
    premises = [("when", data.when), *((f"step {s.step} when", s.when) for s in data.steps)]
    for where, premise in premises:
        if premise is not None:
            try:
                parse_overlay(contract, premise, where)
            except ContractError as exc:
                problems.append(str(exc))
    if problems:
        raise ScenarioError("\n".join(f"{path.name}: {p}" for p in problems))
    by_id = {s.step: s for s in data.steps}
    steps = tuple(Step(s, by_id[s.id].inputs, by_id[s.id].expect, by_id[s.id].when) for s in workflow.steps)
    return Scenario(workflow, steps, data.negative_twins, path, data.when)


def _step_problems(workflow: Workflow, data: ScenarioFile) -> list[str]:
    ours = [s.step for s in data.steps]
    theirs = [s.id for s in workflow.steps]
    if ours != theirs:
        return [f"steps {ours} must be the contract's steps of {workflow.id!r}, in order: {theirs}"]
    return []


def _twin_problems(contract: Contract, workflow: Workflow, twin: NegativeTwin) -> list[str]:
    problems = []
    if twin.instead_of not in {s.id for s in workflow.steps}:
        problems.append(f"instead_of {twin.instead_of!r} is no step of workflow {workflow.id!r}")
    actors = [twin.actor, *(s.actor for s in twin.setup)]
    problems += [f"unknown actor {a!r}" for a in actors if a not in contract.actors]
    refusal = twin.expect.refusal
    if refusal.code not in contract.codes:
        problems.append(f"unknown code {refusal.code!r}")
    elif (status := contract.codes[refusal.code].status) != refusal.status:
        problems.append(f"code {refusal.code} is HTTP {status}, not {refusal.status}")
    problems += [f"unknown rule {r!r}" for r in twin.rules if r not in contract.rules]
    rows = [refusal.row, *(v.row for v in twin.expect.violations)]
    problems += [f"unknown parameterization row {r!r}" for r in rows if r and r not in contract.rows]
    if twin.when is not None:
        try:
            parse_overlay(contract, twin.when, f"twin {twin.id} when")
        except ContractError as exc:
            problems.append(str(exc))
    return problems
