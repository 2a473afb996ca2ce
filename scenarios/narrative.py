"""The step-by-step narrative on the terminal: workflow, step, actor, action, both statuses, marks.

`Narrator` listens to the runner and writes to a stream (the CLI gives stdout): one
line per step (OpenFlex status ↔ ICAR status, ✓/✗ per rule), refusals with their
code, rule and field, every failed check below its step; a negative twin (a forbidden
attempt) shows its replayed prefix on one line and its attempt in full. `summary()`
closes the run with a line per rule and the verdict.

`Presenter` is the demo's narrator (`icarflex demo`): one short French line per step a
dealer can follow, from the contract's labels (labels.yaml, lifeline.yaml, rules.yaml),
and a pause after it (the demo's pace, or Enter).
"""
from __future__ import annotations

from collections.abc import Callable
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
            rules = ", ".join(scenario.rules)
            self.write(f"\n── tentative interdite {scenario.id} [{rules}] · {scenario.title}")

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
        return "refus et violation relevés" if scenario.ok else "la tentative n'a été ni refusée ni relevée"

    # -- the end of a run ---------------------------------------------------------
    def summary(self, run: RunResult, report_dir: str | None = None) -> None:
        self.write("\nRègles du contrat :")
        for rule, counts in run.rule_summary().items():
            title = self.contract.rules[rule].title if rule in self.contract.rules else rule
            ok = counts["failed"] == 0 and counts["twins_missed"] == 0
            twins = counts["twins"] + counts["twins_missed"]
            self.write(f"  {mark(ok)} {rule:<3} {title:<52} {counts['passed']:>3} ✓ {counts['failed']:>3} ✗"
                       f"   tentatives interdites bloquées {counts['twins']}/{twins}")
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
              + f", {caught}/{len(twins)} tentatives interdites bloquées, {run.duration:.1f} s")
    if run.ok:
        return f"\n{OK} CONFORME ({counts})"
    if not run.contract_failed:  # only upstream errors: no verdict on the rules they stopped
        return f"\n{KO} SANS VERDICT : erreur du système pendant le rejeu ({counts})"
    return f"\n{KO} NON CONFORME ({counts})"


# --- the demo's narrative ---------------------------------------------------------------
def status_words(step: StepResult, contract: Contract) -> str:
    """« OpenFlex Entrée Physique ⇄ ICAR Stock », from the contract's labels."""
    openflex = contract.statuses[step.openflex_status].label if step.openflex_status in contract.statuses \
        else "—"
    icar = contract.icar_statuses[step.icar_status].label if step.icar_status in contract.icar_statuses \
        else "pas encore connu"
    return f"OpenFlex « {openflex} » ⇄ ICAR « {icar} »"


def story_line(step: StepResult, number: int, total: int, contract: Contract) -> str:
    """One step of a workflow as a dealer hears it: what happens, who does it, where it stands."""
    labels = contract.labels
    return (f"  {number}/{total} {labels.step(step.step)} — {labels.actor(step.actor)} · "
            f"{status_words(step, contract)} {mark(step.ok)}")


def attempt_story(step: StepResult, contract: Contract) -> list[str]:
    """A forbidden attempt: blocked (the rule and the guide's sentence) or, wrongly, let through."""
    refusal = step.refusal
    who = contract.labels.actor(step.actor)
    if not refusal:
        return [f"  {KO} {who} : {contract.labels.action(step.action)} — ACCEPTÉ, le contrat l'interdit"]
    code = refusal["code"]
    title = contract.codes[code].title if code in contract.codes else code
    lines = [f"  {OK} bloqué : {who} · {contract.labels.action(step.action)} → refusé {refusal['status']} "
             f"« {title} » ({code})"]
    for rule_id in refusal["rule"]:
        if rule_id in contract.rules:
            rule = contract.rules[rule_id]
            lines.append(f"      {rule_id} {rule.title} : « {' '.join(rule.guide.split())} »")
    return lines


class Presenter(Narrator):
    """The demo's narrator: a line per workflow step and per forbidden attempt, then `pause()`."""

    def __init__(self, stream: TextIO, pause: Callable[[], None], contract: Contract | None = None) -> None:
        super().__init__(stream, False, contract)
        self.pause = pause

    def scenario_started(self, scenario: ScenarioResult) -> None:
        self._numbers[scenario.id] = 0
        if scenario.kind == "workflow":
            destination = self.contract.workflow[scenario.id].destination
            self.write(f"\n━━ {scenario.title} · {self.contract.labels.destination(destination)}")
        else:
            self.write(f"\n── {self.contract.labels.words['twin']} : {scenario.title}")

    def step_done(self, step: StepResult) -> None:
        self._numbers[step.scenario] = self._numbers.get(step.scenario, 0) + 1
        if step.kind == ATTEMPT:
            for line in attempt_story(step, self.contract):
                self.write(line)
        elif step.kind == STEP and not self._is_prefix(step):
            workflow = self.contract.workflow.get(step.workflow)
            total = len(workflow.steps) if workflow else self._numbers[step.scenario]
            self.write(story_line(step, self._numbers[step.scenario], total, self.contract))
        else:
            return  # a forbidden attempt's replayed steps: told by the attempt
        for check in step.failures():
            self.write(f"      {KO} {check.name} : {check.detail}")
        self.pause()

    def scenario_done(self, scenario: ScenarioResult) -> None:
        if scenario.skipped:
            self.write(f"  {SKIP} non joué : {scenario.skipped}")
        elif scenario.error:
            self.write(f"  {KO} {scenario.error}")
        elif scenario.kind == "workflow":
            self.write(f"  {mark(scenario.ok)} parcours {'conforme' if scenario.ok else 'NON CONFORME'}")
