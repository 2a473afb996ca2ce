"""The step-by-step narrative on the terminal: workflow, step, actor, action, both statuses, marks.

`Narrator` listens to the runner and writes to a stream (the CLI gives stdout): one
line per step (OpenFlex status ↔ ICAR status, ✓/✗ per rule), refusals with their
code, rule and field, every failed check below its step; a negative twin shows its
replayed prefix on one line and its attempt in full. `summary()` closes the run
with a line per rule and the verdict.
"""
from __future__ import annotations

from typing import TextIO

from icarflex.contracts import Contract, load_contract
from icarflex.scenarios.drift import DriftRow
from icarflex.scenarios.results import ATTEMPT, STEP, RunResult, ScenarioResult, StepResult

OK, KO, SKIP = "✓", "✗", "–"


def mark(ok: bool) -> str:
    return OK if ok else KO


def rule_marks(step: StepResult) -> str:
    return " ".join(f"{mark(ok)}{rule}" for rule, ok in step.rule_marks().items())


def step_line(step: StepResult, number: int) -> str:
    icar = step.icar_status or "—"
    openflex = step.openflex_status or "—"
    name = "tentative" if step.kind == ATTEMPT else step.step
    return (f"  {number:>2}. {name:<24} {step.actor:<14} {step.action:<20} "
            f"OpenFlex {openflex:<23} ↔ ICAR {icar:<9} {rule_marks(step)}")


def refusal_line(step: StepResult) -> str:
    refusal = step.refusal
    if not refusal:
        return "      → accepté (aucun refus)"
    via = f" (ICAR {refusal['http']} UPSTREAM_REFUSED)" if refusal["via"] == "icar" else ""
    return (f"      → refusé {refusal['status']} {refusal['code']} règle {','.join(refusal['rule']) or '—'} "
            f"champ {','.join(refusal['fields']) or '—'}{via}")


class Narrator:
    """A runner listener writing the narrative to `stream`; quiet: only failures and the summary."""

    def __init__(self, stream: TextIO, quiet: bool = False, contract: Contract | None = None) -> None:
        self.stream, self.quiet = stream, quiet
        self.contract = contract or load_contract()
        self._numbers: dict[str, int] = {}

    def write(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        self.write(f"! {text}")

    def scenario_started(self, scenario: ScenarioResult) -> None:
        self._numbers[scenario.id] = 0
        if self.quiet:
            return
        if scenario.kind == "workflow":
            self.write(f"\n━━ {scenario.id} · {scenario.title}  ({scenario.guide_section})")
        else:
            self.write(f"\n── jumeau négatif {scenario.id} [{', '.join(scenario.rules)}] · {scenario.title}")

    def step_done(self, step: StepResult) -> None:
        self._numbers[step.scenario] = self._numbers.get(step.scenario, 0) + 1
        if self.quiet and step.ok:
            return
        if step.kind != STEP or not self._is_prefix(step) or not step.ok:
            self.write(step_line(step, self._numbers[step.scenario]))
            if step.kind == ATTEMPT:
                self.write(refusal_line(step))
        for check in step.failures():
            self.write(f"      {KO} {check.name} : {check.detail}")

    def _is_prefix(self, step: StepResult) -> bool:
        return step.scenario != step.workflow  # a twin's replayed steps

    def scenario_done(self, scenario: ScenarioResult) -> None:
        if scenario.kind == "twin" and not self.quiet and scenario.steps:
            prefix = [s for s in scenario.steps if s.kind == STEP]
            if prefix:
                self.write("      rejoué avant : " + " → ".join(f"{s.step} {mark(s.ok)}" for s in prefix))
        if scenario.skipped:
            self.write(f"  {SKIP} {scenario.id} ignoré : {scenario.skipped}")
        elif scenario.error:
            self.write(f"  {KO} {scenario.id} : {scenario.error}")
        elif not self.quiet or not scenario.ok:
            self.write(f"  {mark(scenario.ok)} {scenario.id} : {self._verdict(scenario)}")

    def _verdict(self, scenario: ScenarioResult) -> str:
        if scenario.kind == "workflow":
            return f"{len(scenario.steps)} étapes conformes" if scenario.ok else "NON CONFORME"
        return "refus et violation relevés" if scenario.ok else "le jumeau n'a pas été attrapé"

    # -- the end of a run ---------------------------------------------------------
    def summary(self, run: RunResult, report_dir: str | None = None) -> None:
        self.write("\nRègles du contrat :")
        for rule, counts in run.rule_summary().items():
            title = self.contract.rules[rule].title if rule in self.contract.rules else rule
            ok = counts["failed"] == 0 and counts["twins_missed"] == 0
            twins = counts["twins"] + counts["twins_missed"]
            self.write(f"  {mark(ok)} {rule:<3} {title:<52} {counts['passed']:>3} ✓ {counts['failed']:>3} ✗"
                       f"   jumeaux attrapés {counts['twins']}/{twins}")
        self.write(drift_line(run.drift))
        for check in run.final_checks:
            self.write(f"{SKIP if check.skipped else mark(check.ok)} {check.name} : {check.detail}")
        if report_dir:
            self.write(f"Rapport : {report_dir}")
        self.write(verdict_line(run))


def drift_line(drift: list[DriftRow]) -> str:
    if not drift:
        return f"{OK} paramétrage API VO de la cible : conforme au profil attendu"
    rows = "; ".join(row.describe() for row in drift)
    return f"{KO} DÉRIVE du paramétrage API VO ({len(drift)} ligne(s)) : {rows}"


def verdict_line(run: RunResult) -> str:
    workflows = [s for s in run.scenarios if s.kind == "workflow" and not s.skipped]
    not_applicable = sum(1 for s in run.scenarios if s.kind == "workflow" and s.skipped)
    twins = [s for s in run.scenarios if s.kind == "twin" and not s.skipped]
    caught = sum(1 for s in twins if s.ok)
    counts = (f"{sum(s.ok for s in workflows)}/{len(workflows)} parcours"
              + (f" (+{not_applicable} non applicable(s) sous ce paramétrage)" if not_applicable else "")
              + f", {caught}/{len(twins)} jumeaux négatifs attrapés, {run.duration:.1f} s")
    if run.ok:
        return f"\n{OK} CONFORME ({counts})"
    if not run.contract_failed:  # only upstream errors: no verdict on the rules they stopped
        return f"\n{KO} SANS VERDICT : erreur du système pendant le rejeu ({counts})"
    return f"\n{KO} NON CONFORME ({counts})"
