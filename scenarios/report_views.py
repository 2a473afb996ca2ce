"""What the HTML report shows, shaped for a dealer: verdicts first, French labels, refusals as refusals.

`report_context(run)` gives the templates (scenarios/templates/) their values: the board
of the first screen (a verdict per workflow and per rule), then per workflow its timeline
(one row per step: the step's, the actor's and both statuses' French labels, ids in small
print), its forbidden attempts (each a refusal: blocked, the rule, the guide's sentence),
its call diagram (sequence.py) and its detailed checks. Every label comes from the
contract (contracts/data/); loopback URLs are marked temporary rather than printed as links.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from icarflex.contracts import Contract
from icarflex.mocks.common.overview import rule_json
from icarflex.scenarios.narrative import verdict_line
from icarflex.scenarios.results import STEP, RunResult, ScenarioResult, StepResult
from icarflex.scenarios.sequence import sequence_diagram

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def report_context(run: RunResult, contract: Contract) -> dict[str, Any]:
    workflows = [s for s in run.scenarios if s.kind == "workflow"]
    twins = [s for s in run.scenarios if s.kind == "twin"]
    views = [workflow_view(w, [t for t in twins if t.workflow == w.id], contract) for w in workflows]
    return {"run": run, "contract": contract, "words": contract.labels.words,
            "generated": datetime.now().strftime("%d/%m/%Y %H:%M"), "verdict": verdict_line(run).strip(),
            "targets": targets(run), "workflows": views, "rules": rule_board(run, contract),
            "attempts_total": sum(len(v["attempts"]) for v in views),
            "attempts_caught": sum(a["verdict"] == "caught" for v in views for a in v["attempts"])}


def targets(run: RunResult) -> list[dict[str, Any]]:
    """The systems tested; a loopback address (fakes started for the run) is not worth a link."""
    out = []
    for name, url in (("OpenFlex", run.openflex_url), ("ICAR DMS", run.icar_url)):
        temporary = (urlsplit(url).hostname or "") in LOOPBACK
        out.append({"name": name, "url": url, "temporary": temporary})
    return out


# --- the first screen ---------------------------------------------------------------------
def rule_board(run: RunResult, contract: Contract) -> list[dict[str, Any]]:
    summary = run.rule_summary()
    board = []
    for rule in contract.rules_data.rules:
        counts = summary.get(rule.id)
        ok = counts is None or (counts["failed"] == 0 and counts["twins_missed"] == 0)
        board.append({**rule_json(contract, rule.id), "source": rule.source, "counts": counts, "ok": ok,
                      "exercised": counts is not None})
    return board


# --- a workflow ---------------------------------------------------------------------------
def workflow_view(scenario: ScenarioResult, twins: list[ScenarioResult],
                  contract: Contract) -> dict[str, Any]:
    workflow = contract.workflow.get(scenario.workflow)
    attempts = [attempt_view(t, contract) for t in twins]
    steps = [s for s in scenario.steps if s.kind == STEP]
    return {"result": scenario, "anchor": f"workflow-{scenario.id}",
            "destination": contract.labels.destination(workflow.destination if workflow else None),
            "timeline": [timeline_row(step, n, contract) for n, step in enumerate(steps, 1)],
            "steps_total": len(workflow.steps) if workflow else len(steps),
            "steps_ok": sum(s.ok for s in steps),
            "attempts": attempts,
            "ok": scenario.ok and all(a["verdict"] in ("caught", "skipped") for a in attempts),
            "diagram": sequence_diagram(scenario, contract) if scenario.steps else None}


def timeline_row(step: StepResult, number: int, contract: Contract) -> dict[str, Any]:
    return {"number": number, "step": step, "label": contract.labels.step(step.step),
            "actor": contract.labels.actor(step.actor),
            "openflex": _status(step.openflex_status, contract.statuses),
            "icar": _status(step.icar_status, contract.icar_statuses),
            "marks": step.rule_marks(), "failures": step.failures()}


def _status(status: str | None, table: dict[str, Any]) -> dict[str, Any] | None:
    if status is None:
        return None
    return {"id": status, "label": table[status].label if status in table else status}


# --- a forbidden attempt ---------------------------------------------------------------------
def attempt_view(twin: ScenarioResult, contract: Contract) -> dict[str, Any]:
    """A negative case as a refusal: what was tried, by whom, instead of which step, and what came of it."""
    attempt = twin.attempt
    workflow = contract.workflow.get(twin.workflow)
    prefix = [s for s in twin.steps if s.kind == STEP]
    instead = workflow.steps[len(prefix)].id if workflow and attempt and len(prefix) < len(workflow.steps) \
        else None
    view: dict[str, Any] = {
        "result": twin, "anchor": f"twin-{twin.id}", "title": twin.title,
        "rules": [rule_json(contract, r) for r in twin.rules if r in contract.rules],
        "instead_of": contract.labels.step(instead) if instead else None,
        "before": [contract.labels.step(s.step) for s in prefix],
        "verdict": _attempt_verdict(twin), "refusal": None, "actor": None, "action": None}
    if attempt is not None:
        view.update(actor=contract.labels.actor(attempt.actor), actor_id=attempt.actor,
                    action=contract.labels.action(attempt.action), action_id=attempt.action,
                    refusal=_refusal(attempt, contract), failures=attempt.failures())
    return view


def _attempt_verdict(twin: ScenarioResult) -> str:
    if twin.skipped:
        return "skipped"
    if twin.attempt is None or twin.error:
        return "error"
    return "caught" if twin.ok else "missed"


def _refusal(step: StepResult, contract: Contract) -> dict[str, Any] | None:
    refusal = step.refusal
    if not refusal:
        return None
    code = refusal.get("code")
    return {"status": refusal.get("status"), "code": code,
            "title": contract.codes[code].title if code in contract.codes else code,
            "fields": [{"id": f, "label": field_label(f, contract)} for f in refusal.get("fields") or []],
            "rules": [rule_json(contract, r) for r in refusal.get("rule") or [] if r in contract.rules],
            "via_icar": refusal.get("via") == "icar", "http": refusal.get("http")}


def field_label(field: str, contract: Contract) -> str:
    if field in contract.rows:
        return contract.rows[field].label
    spec = contract.vehicle.fields.get(field)
    if spec is not None and spec.label:
        return spec.label
    pre = next((p for p in contract.lifeline.preconditions.values() if p.field == field and p.label), None)
    return pre.label if pre else field

