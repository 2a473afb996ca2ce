"""The checks the runner makes after a step: calls, states of both systems, mapping, journal.

A workflow step must be accepted and leave OpenFlex in the contract's status for it,
ICAR in the status the mapping gives (never ahead, never behind) and both in the
scenario's expected fields. A negative twin's attempt must be refused with the
expected status, code, rule, fields and row, leave both systems untouched, and show
in the journal as an attempt whose recomputed violations are the expected ones. A
journal entry that breaks a rule and was accepted fails any step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from icarflex.contracts import ApiVoSettings
from icarflex.scenarios.checker import ATTEMPT as ATTEMPT_FINDING
from icarflex.scenarios.checker import REFUSAL_WITHOUT_RULE, Finding
from icarflex.scenarios.clients import Reply
from icarflex.scenarios.expect import UnknownReference, mismatches, resolve
from icarflex.scenarios.model import NegativeTwin, Refusal, Step
from icarflex.scenarios.results import ATTEMPT, Check, StepResult

if TYPE_CHECKING:
    from icarflex.scenarios.runner import Replay, Runner

# What a refused DMS operation must leave as it was in ICAR.
ICAR_KEPT = ("status", "police_number", "mileage", "frevo_total", "invoice")


@dataclass(frozen=True)
class Observation:
    vehicle: dict[str, Any] | None
    record: dict[str, Any] | None


def observe(runner: Runner, replay: Replay) -> Observation:
    """The vehicle in OpenFlex and its record in ICAR, as they are now."""
    vehicle = record = None
    if vehicle_id := replay.values.get("vehicle_id"):
        reply = runner.reader.get_vehicle(vehicle_id)
        vehicle = reply.body if reply.ok else None
    if icar_id := replay.values.get("icar_id"):
        reply = runner.icar.get_record(icar_id)
        record = reply.body if reply.ok else None
    return Observation(vehicle, record)


def describe_refusal(reply: Reply) -> str:
    problem = reply.problem
    via = " via ICAR" if reply.system == "icar" else ""
    rules = ",".join(problem.get("rule") or []) or "—"
    fields = ",".join(problem.get("fields") or []) or "—"
    return (f"{reply.method} {reply.path} → {reply.problem_status}{via} {problem.get('code')} "
            f"règle {rules} champ {fields}")


# --- workflow steps ----------------------------------------------------------------
def judge_step(runner: Runner, replay: Replay, result: StepResult, step: Step | None) -> None:
    refused = [c for c in result.calls if not c.ok]
    result.checks.append(Check("appels acceptés", not refused and bool(result.calls),
                               "; ".join(f"{c.method} {c.path} → {c.status} {c.code or ''}" for c in refused)
                               or f"{len(result.calls)} appel(s)"))
    if step is None:
        return
    seen = observe(runner, replay)
    _statuses(runner, result, seen, step)
    if refused:
        return  # the step did not happen: its expected fields would only repeat it
    try:
        result.checks += _expectations(runner, replay, step, seen)
    except UnknownReference as exc:
        result.checks.append(Check("attendus du scénario", False, str(exc)))


def _statuses(runner: Runner, result: StepResult, seen: Observation, step: Step) -> None:
    contract = runner.contract
    result.openflex_status = (seen.vehicle or {}).get("status")
    result.icar_status = (seen.record or {}).get("status")
    expected = result.expected_status
    result.checks.append(Check("statut OpenFlex", result.openflex_status == expected,
                               f"{result.openflex_status} (attendu {expected})"))
    if seen.record is not None:
        result.checks.append(_mapping(runner, seen))
        if expected:
            want = contract.icar_status_after(step.contract)
            result.checks.append(Check("statut ICAR", result.icar_status == want,
                                       f"{result.icar_status} (attendu {want})"))


def _settings(runner: Runner) -> ApiVoSettings:
    """The parameterization the replay's dealer runs under: the expected one, with the settings
    changes its journal showed so far (a twin's flip in its scratch dealer)."""
    return runner.auditor.settings_of(runner.targets.dealer)


def _mapping(runner: Runner, seen: Observation) -> Check:
    """The ICAR status is the mapping of the OpenFlex one: never ahead, never behind — or a step
    the parameterization leaves to OpenFlex and still to be made there (lifeline.yaml `icar_pending`)."""
    openflex = (seen.vehicle or {}).get("status")
    icar = (seen.record or {}).get("status")
    contract = runner.contract
    want = contract.icar_statuses_for(openflex, _settings(runner)) if openflex in contract.statuses else ()
    pending = contract.pending_mapping(openflex, icar, _settings(runner)) if want else None
    why = f" : {pending.reason}" if pending and icar in want else ""
    gives = " ou ".join(want) or None
    return Check("correspondance OpenFlex ↔ ICAR", icar in want,
                 f"OpenFlex {openflex} ↔ ICAR {icar} (la correspondance donne {gives}){why}",
                 rule=contract.rule_for("status_mapping"))


def _expectations(runner: Runner, replay: Replay, step: Step, seen: Observation) -> list[Check]:
    checks = []
    expect = step.expect
    if expect.openflex:
        wanted = _reachable(runner, step, resolve(expect.openflex, replay.values))
        wrong = mismatches(seen.vehicle or {}, wanted)
        checks.append(Check("état OpenFlex attendu", not wrong, "; ".join(wrong) or "conforme"))
    if expect.icar == "absent":
        known = seen.record is not None or _icar_knows(runner, replay.values.get("vehicle_id"))
        checks.append(Check("ICAR ne connaît pas encore le véhicule", not known,
                            "dossier ICAR trouvé" if known else "aucun dossier ICAR"))
    elif seen.record is None and replay.values.get("icar_id"):
        checks.append(Check("dossier ICAR", False, "dossier ICAR introuvable"))
    elif expect.icar:
        wrong = mismatches(seen.record or {}, resolve(expect.icar, replay.values))
        checks.append(Check("état ICAR attendu", not wrong, "; ".join(wrong) or "conforme"))
    return checks


def _reachable(runner: Runner, step: Step, wanted: dict[str, Any]) -> dict[str, Any]:
    """What a DMS step can bring to OpenFlex: not the fields the expected parameterization
    keeps from the DMS (guide §2; the connector leaves them out), which stay as they were."""
    if step.contract.actor != runner.contract.dms_actor:
        return wanted
    return {name: value for name, value in wanted.items()
            if name not in runner.contract.rows or runner.expected.dms_may_modify(name)}


def _icar_knows(runner: Runner, vehicle_id: str | None) -> bool:
    if vehicle_id is None:
        return False
    reply = runner.icar.records(openflex_id=vehicle_id)
    items = (reply.body or {}).get("items", []) if reply.ok and isinstance(reply.body, dict) else []
    return any(item.get("openflex_id") == vehicle_id for item in items)


# --- negative twins -----------------------------------------------------------------
def judge_attempt(runner: Runner, replay: Replay, result: StepResult, twin: NegativeTwin,
                  before: Observation, replies: list[Reply]) -> None:
    expected = twin.expect.refusal
    refused = next((r for r in replies if not r.ok), None)
    if refused is None:
        result.checks.append(Check("refus attendu", False, "accepté : la règle n'est pas appliquée",
                                   rule=expected.rule))
    else:
        result.refusal = _refusal_of(refused)
        wrong = _refusal_mismatches(refused, expected, runner)
        result.checks.append(Check("refus attendu", not wrong,
                                   "; ".join(wrong) or describe_refusal(refused), rule=expected.rule))
    after = observe(runner, replay)
    result.openflex_status = (after.vehicle or {}).get("status")
    result.icar_status = (after.record or {}).get("status")
    result.checks += _untouched(runner, replay, before, after)


def _refusal_of(reply: Reply) -> dict[str, Any]:
    problem = reply.problem
    return {"status": reply.problem_status, "http": reply.status, "via": reply.system,
            "code": problem.get("code"), "rule": problem.get("rule") or [],
            "fields": problem.get("fields") or [],
            "rows": [v.get("row") for v in problem.get("violations") or [] if v.get("row")],
            "label": problem.get("label"), "detail": problem.get("detail")}


def _refusal_mismatches(reply: Reply, expected: Refusal, runner: Runner | None = None) -> list[str]:
    got = _refusal_of(reply)
    wrong = []
    if runner is not None and expected.fields and set(expected.fields) <= set(got["fields"]):
        # A profile that keeps more from the DMS refuses more of the same write (guide §2).
        also = [f for f in got["fields"] if f not in expected.fields and f in runner.contract.rows
                and not runner.expected.dms_may_modify(f)]
        expected = expected.model_copy(update={"fields": (*expected.fields, *also)})
    if got["status"] != expected.status:
        wrong.append(f"statut {got['status']} (attendu {expected.status})")
    if got["code"] != expected.code:
        wrong.append(f"code {got['code']} (attendu {expected.code})")
    if expected.rule not in got["rule"]:
        wrong.append(f"règles {got['rule']} (attendu {expected.rule})")
    if expected.fields and sorted(got["fields"]) != sorted(expected.fields):
        wrong.append(f"champs {got['fields']} (attendu {list(expected.fields)})")
    if expected.row and expected.row not in got["rows"]:
        wrong.append(f"lignes du paramétrage {got['rows']} (attendu {expected.row})")
    if reply.system == "icar" and reply.body.get("code") != "UPSTREAM_REFUSED":
        wrong.append(f"ICAR répond {reply.status} {reply.body.get('code')} (attendu UPSTREAM_REFUSED)")
    return wrong


def _untouched(runner: Runner, replay: Replay, before: Observation, after: Observation) -> list[Check]:
    """A refused write is refused whole: nothing of it applied, on either side."""
    checks = []
    if before.vehicle is None:
        vin = (replay.values.get("vehicle") or {}).get("vin")
        found = (runner.reader.find_vehicles(vin=vin).body or {}).get("items", []) if vin else []
        checks.append(Check("aucun véhicule créé", not found, f"{len(found)} véhicule(s) avec ce VIN"))
    else:
        changed = sorted(k for k in {*before.vehicle, *(after.vehicle or {})}
                         if before.vehicle.get(k) != (after.vehicle or {}).get(k))
        checks.append(Check("véhicule OpenFlex inchangé", not changed,
                            f"modifié : {', '.join(changed)}" if changed else "inchangé"))
    if before.record is not None:
        changed = [k for k in ICAR_KEPT if before.record.get(k) != (after.record or {}).get(k)]
        checks.append(Check("dossier ICAR inchangé", not changed,
                            f"modifié : {', '.join(changed)}" if changed else "inchangé"))
        checks.append(_mapping(runner, after))
    return checks


# --- the journal ----------------------------------------------------------------------
def audit(runner: Runner, result: StepResult, kind: str, entries: list[dict[str, Any]],
          twin: NegativeTwin | None) -> list[Check]:
    if not runner.journal_on:
        return [Check("journal", True, "journal indisponible : audit non fait", skipped=True)]
    findings = runner.auditor.audit(entries)
    result.findings = findings
    checks = [Check(f"journal : {f.rule} {f.field or f.row or ''} accepté", False, f.describe(), rule=f.rule)
              for f in findings if f.failing]
    if kind == ATTEMPT and twin is not None:
        checks += [_expected_violation(findings, v.rule, v.field, v.row) for v in twin.expect.violations]
    else:
        checks += [Check(f"journal : refus inattendu {f.rule or ''}", False, f.describe(), rule=f.rule)
                   for f in findings if f.kind in (ATTEMPT_FINDING, REFUSAL_WITHOUT_RULE)]
    writes = sum(1 for e in entries if e.get("method") != "GET")
    return checks or [Check("journal audité", True, f"{writes} écriture(s), aucune violation")]


def _expected_violation(findings: list[Finding], rule: str, field: str | None, row: str | None) -> Check:
    found = any(f.kind == ATTEMPT_FINDING and f.rule == rule and (field is None or f.field == field)
                and (row is None or f.row == row) for f in findings)
    what = " ".join(p for p in (rule, field or "", f"[{row}]" if row else "") if p)
    seen = ", ".join(f"{f.rule} {f.field or f.row}" for f in findings if f.kind == ATTEMPT_FINDING) or "rien"
    return Check(f"checker : tentative {what}", found, f"relevé : {seen}", rule=rule)
