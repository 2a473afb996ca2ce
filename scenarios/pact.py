"""`icarflex run --pact DIR`: the replayed ICAR connector → OpenFlex API VO calls as a Pact v4 file.

Consumer: the ICAR connector; provider: the OpenFlex API VO. Every call the connector made
on OpenFlex during a replayed step (the OpenFlex journal's DMS entries that an ICAR call
caused, with the vehicle as it was before) becomes one interaction, whose provider state
is named after the workflow step (`particulier : véhicule prêt pour l'étape physical_entry`)
and carries that vehicle (and, for a negative twin, the rows it flips). The fake sets such a state up through
`POST /__admin/provider-states` (icarflex.mocks.openflex.provider_states), which answers
the vehicle's id and a DMS key of a dealer of its own: the interaction's path and
Authorization header are provider-state generators over those two values, so Pact's own
verifier (pact-python's `Verifier`) can replay the file against any OpenFlex that sets
states up the same way. A response is expected by its status and, for an accepted write,
by the fields written and the new status; for a refusal, by its problem `code`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from icarflex.scenarios.model import load_scenarios
from icarflex.scenarios.results import ATTEMPT, STEP, RunResult, ScenarioResult, StepResult

from icarflex import __version__

CONSUMER = "ICAR connector"
PROVIDER = "OpenFlex API VO"
VEHICLE_PATH = "/api/v1/vehicles/${vehicle_id}"
WRITES = ("PATCH", "POST", "PUT", "DELETE")


def state_name(workflow: str, step: str) -> str:
    return f"{workflow} : véhicule prêt pour l'étape {step}"


def interactions(result: RunResult) -> list[dict[str, Any]]:
    """One interaction per connector write on a known vehicle, in replay order."""
    settings = _twin_settings()
    found: list[dict[str, Any]] = []
    for scenario in result.scenarios:
        if scenario.skipped:
            continue
        for step in _steps_of(scenario):
            for call in step.calls:
                for effect in call.effects:
                    if _usable(effect):
                        found.append(_interaction(scenario, step, effect, len(found) + 1,
                                                  settings.get(scenario.id)))
    return found


def _twin_settings() -> dict[str, dict[str, Any]]:
    """The rows each negative twin flips before its attempt (`set_parameterization` set-ups)."""
    flips: dict[str, dict[str, Any]] = {}
    for scenario in load_scenarios().values():
        for twin in scenario.twins:
            for setup in twin.setup:
                if setup.action == "set_parameterization":
                    overlay = flips.setdefault(twin.id, {})
                    for section, rows in setup.inputs.items():
                        overlay.setdefault(section, {}).update(rows)
    return flips


def _steps_of(scenario: ScenarioResult) -> list[StepResult]:
    """A workflow's steps; of a negative twin only its attempt (its prefix is the workflow's)."""
    kinds = (STEP,) if scenario.kind == "workflow" else (ATTEMPT,)
    return [step for step in scenario.steps if step.kind in kinds and not step.system_error]


def _usable(entry: dict[str, Any]) -> bool:
    return (entry.get("method") in WRITES and isinstance(entry.get("vehicle_before"), dict)
            and (entry.get("path") or "").startswith("/api/v1/vehicles/")
            and 200 <= int(entry.get("status") or 0) < 500)


def _interaction(scenario: ScenarioResult, step: StepResult, entry: dict[str, Any], number: int,
                 settings: dict[str, Any] | None) -> dict:
    before = entry["vehicle_before"]
    path = entry["path"].replace(before["id"], "${vehicle_id}", 1)
    request: dict[str, Any] = {
        "method": entry["method"],
        "path": entry["path"].replace(before["id"], "VEHICLE_ID", 1),
        "headers": {"Authorization": ["Bearer DMS_KEY"], "Accept": ["application/json"]},
        "generators": {"path": _from_state(path),
                       "header": {"Authorization": _from_state("Bearer ${dms_key}")}},
    }
    body = entry.get("request")
    if isinstance(body, dict):
        request["headers"]["Content-Type"] = ["application/merge-patch+json"]
        request["body"] = {"content": body, "contentType": "application/merge-patch+json", "encoded": False}
    status = int(entry["status"])
    workflow = scenario.workflow
    what = "tentative refusée" if status >= 400 else "écriture acceptée"
    return {
        "type": "Synchronous/HTTP",
        "description": f"{number:03d} {scenario.id} / {step.step} : {entry['method']} du véhicule ({what})",
        "providerStates": [{"name": state_name(workflow, _state_step(scenario, step)),
                            "params": {"vehicle": before, **({"settings": settings} if settings else {})}}],
        "request": request,
        "response": {"status": status, "headers": {},
                     "body": {"content": _expected_body(entry, body), "contentType": _content_type(status),
                              "encoded": False}},
        "pending": False,
    }


def _from_state(expression: str) -> dict[str, str]:
    """A provider-state generator: the value comes from what the state set-up answered."""
    return {"type": "ProviderState", "expression": expression, "dataType": "STRING"}


def _state_step(scenario: ScenarioResult, step: StepResult) -> str:
    return step.step if scenario.kind == "workflow" else f"{step.step} ({scenario.id})"


def _content_type(status: int) -> str:
    return "application/problem+json" if status >= 400 else "application/json"


def _expected_body(entry: dict[str, Any], body: Any) -> dict[str, Any]:
    """What the provider must answer: a refusal's code; an accepted write's new status and the
    scalar values it wrote (other keys of the answer are free: Pact ignores unexpected keys)."""
    response = entry.get("response") if isinstance(entry.get("response"), dict) else {}
    if int(entry["status"]) >= 400:
        return {"code": response.get("code")}
    written = {k: v for k, v in (body or {}).items() if not isinstance(v, dict | list)}
    return {**written, "status": response.get("status")}


def pact_document(result: RunResult) -> dict[str, Any]:
    return {
        "consumer": {"name": CONSUMER},
        "provider": {"name": PROVIDER},
        "interactions": interactions(result),
        "metadata": {"pactSpecification": {"version": "4.0"},
                     "icarflex": {"version": __version__, "seed": result.seed,
                                  "profile": result.profile or "défauts du guide",
                                  "provider_states": "POST /__admin/provider-states"}},
    }


def write_pact(result: RunResult, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{CONSUMER}-{PROVIDER}.json".replace(" ", "_")
    path.write_text(json.dumps(pact_document(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path
