"""The call diagram of a scenario, laid out for inline SVG (scenarios/templates/sequence.html.j2).

Every row has its own line, and every label sits in a column of its own left of the lanes,
so no label ever crosses an arrow or another label: a step's band (its French label), then
one row per call (actor → system) and per push it caused (ICAR → OpenFlex), the label
saying method, path with ids folded, status and refusal code. Lanes: the actors in the
contract's order (the DMS last, next to ICAR), then ICAR DMS and OpenFlex.
"""
from __future__ import annotations

import re
from typing import Any

from icarflex.contracts import Contract
from icarflex.scenarios.results import ATTEMPT, ScenarioResult

LABEL_WIDTH = 330     # the label column, left of the lanes
LABEL_CHARS = 54      # a label longer than this is cut (the whole text in its tooltip)
LANE_GAP, TOP, ROW, MARGIN, STEP_GAP = 120, 52, 20, 64, 6
SYSTEMS = ("icar", "openflex")


def sequence_diagram(scenario: ScenarioResult, contract: Contract) -> dict[str, Any]:
    seen = {call.actor for step in scenario.steps for call in step.calls}
    actors = sorted(seen, key=lambda a: (a == contract.dms_actor, _order(contract, a)))
    lanes = [*actors, *SYSTEMS]
    x = {lane: LABEL_WIDTH + MARGIN + i * LANE_GAP for i, lane in enumerate(lanes)}
    rows: list[dict[str, Any]] = []
    y = TOP
    for step in scenario.steps:
        y += STEP_GAP
        refused = step.kind == ATTEMPT
        label = contract.labels.step(step.step) if not refused else contract.labels.action(step.action)
        rows.append({"kind": "band", "y": y, "label": _cut(label), "title": label, "ok": step.ok,
                     "attempt": refused})
        y += ROW
        for call in step.calls:
            rows.append(_arrow(x[call.actor], x[call.system], y, call.method, call.path, call.status,
                               call.code))
            y += ROW
            for effect in call.effects:
                rows.append(_arrow(x["icar"], x["openflex"], y, effect.get("method", ""),
                                   effect.get("path", ""), int(effect.get("status") or 0),
                                   _effect_code(effect), pushed=True))
                y += ROW
    names = {"icar": "ICAR DMS", "openflex": "OpenFlex"}
    heads = {lane: _two_lines(names.get(lane) or contract.labels.actor(lane)) for lane in lanes}
    return {"lanes": [{"id": lane, "x": x[lane], "lines": heads[lane], "system": lane in SYSTEMS}
                      for lane in lanes],
            "rows": rows, "label_width": LABEL_WIDTH,
            "width": LABEL_WIDTH + MARGIN * 2 + LANE_GAP * (len(lanes) - 1), "height": y + 8}


def _order(contract: Contract, actor: str) -> int:
    return contract.actors.index(actor) if actor in contract.actors else len(contract.actors)


def _effect_code(entry: dict[str, Any]) -> str | None:
    response = entry.get("response")
    refused = int(entry.get("status") or 0) >= 400
    return response.get("code") if refused and isinstance(response, dict) else None


def _arrow(x1: int, x2: int, y: int, method: str, path: str, status: int, code: str | None,
           pushed: bool = False) -> dict[str, Any]:
    label = f"{'↳ ' if pushed else ''}{method} {short_path(path)} → {status}{' ' + code if code else ''}"
    return {"kind": "arrow", "x1": x1, "x2": x2 - 6 if x2 > x1 else x2 + 6, "y": y, "label": _cut(label),
            "title": label, "ok": 200 <= status < 300, "pushed": pushed}


def _two_lines(label: str) -> list[str]:
    """A lane's head on two lines (its words split near the middle), so heads never touch."""
    words = label.split()
    if len(words) < 2:
        return [label]
    cut = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))))
    return [" ".join(words[:cut]), " ".join(words[cut:])]


def _cut(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "…"


def short_path(path: str) -> str:
    """`/api/v1/vehicles/3f2a…/physical-entry` → `/vehicles/{id}/physical-entry`."""
    path = re.sub(r"^/api/v1", "", path)
    return re.sub(r"/(?=[^/]*\d)[A-Za-z0-9_-]{6,}(?=/|$)", "/{id}", path)
