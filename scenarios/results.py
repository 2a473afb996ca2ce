"""What a replay found: checks per step, steps per scenario, scenarios per run.

Plain dataclasses the runner fills and the narrative, the JUnit and the HTML report
read. A step passes when every check holds; a rule of a step is marked ✓ when every
check about it (or about the whole step) holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from icarflex.scenarios.checker import Finding
from icarflex.scenarios.drift import DriftRow

STEP, SETUP, ATTEMPT = "step", "setup", "attempt"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""
    rule: str | None = None      # None: the check concerns every rule of the step
    skipped: bool = False


@dataclass
class Call:
    """One HTTP call of the replay, with what it caused on OpenFlex (for the sequence diagram)."""

    actor: str
    system: str
    method: str
    path: str
    status: int
    code: str | None = None
    effects: list[dict[str, Any]] = field(default_factory=list)   # OpenFlex journal entries it caused

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class StepResult:
    scenario: str
    workflow: str
    step: str
    actor: str
    action: str
    rules: tuple[str, ...]
    kind: str = STEP
    title: str = ""
    expected_status: str | None = None
    openflex_status: str | None = None
    icar_status: str | None = None
    calls: list[Call] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    refusal: dict[str, Any] | None = None
    system_error: str | None = None   # an upstream 5xx or timeout: the step could not be judged

    @property
    def ok(self) -> bool:
        return self.system_error is None and all(c.ok for c in self.checks)

    @property
    def name(self) -> str:
        return f"{self.scenario}/{self.step}"

    def rule_marks(self) -> dict[str, bool]:
        """Each rule of the step (and any rule a check named) → does every check about it hold?
        None for a step an upstream error stopped: its rules were not judged."""
        if self.system_error is not None:
            return {}
        rules = list(dict.fromkeys([*self.rules, *(c.rule for c in self.checks if c.rule)]))
        return {rule: all(c.ok for c in self.checks if c.rule in (None, rule)) for rule in rules}

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


@dataclass
class ScenarioResult:
    id: str
    workflow: str
    title: str
    kind: str                       # "workflow" or "twin"
    guide_section: str = ""
    steps: list[StepResult] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None
    rules: tuple[str, ...] = ()     # a twin: the rules it proves
    vehicle: dict[str, Any] = field(default_factory=dict)   # who it was: make, model, VIN, plate…

    @property
    def ok(self) -> bool:
        return self.error is None and all(s.ok for s in self.steps)

    @property
    def attempt(self) -> StepResult | None:
        return next((s for s in self.steps if s.kind == ATTEMPT), None)


@dataclass
class RunResult:
    seed: int
    openflex_url: str
    icar_url: str
    profile: str | None
    drift: list[DriftRow] = field(default_factory=list)
    scenarios: list[ScenarioResult] = field(default_factory=list)
    final_checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return (not self.drift and all(s.ok for s in self.scenarios if not s.skipped)
                and all(c.ok for c in self.final_checks))

    @property
    def system_errors(self) -> list[str]:
        """Upstream 5xx or timeouts that stopped a step (shown as such, not as broken rules)."""
        return [step.system_error for s in self.scenarios for step in s.steps if step.system_error]

    @property
    def contract_failed(self) -> bool:
        """Drift, or a check that failed on a step that was judged (exit status 1)."""
        judged = (step for s in self.scenarios if not s.skipped for step in s.steps if not step.system_error)
        return (bool(self.drift) or any(not step.ok for step in judged)
                or any(not c.ok for c in self.final_checks))

    def rule_summary(self) -> dict[str, dict[str, int]]:
        """Per rule: checks passed and failed over every step, twins caught and missed."""
        summary: dict[str, dict[str, int]] = {}
        for scenario in self.scenarios:
            for step in scenario.steps:
                for rule, ok in step.rule_marks().items():
                    row = summary.setdefault(rule, {"passed": 0, "failed": 0, "twins": 0, "twins_missed": 0})
                    row["passed" if ok else "failed"] += 1
            if scenario.kind == "twin" and not scenario.skipped:
                for rule in scenario.rules:
                    row = summary.setdefault(rule, {"passed": 0, "failed": 0, "twins": 0, "twins_missed": 0})
                    row["twins" if scenario.ok else "twins_missed"] += 1
        return dict(sorted(summary.items(), key=lambda kv: int(kv[0][1:]) if kv[0][1:].isdigit() else 99))
