"""The reports of a run: JUnit XML for CI and one self-contained HTML page for a dealer.

JUnit: a test suite per workflow and per negative twin, a test case per step and per
rule check of that step (failures carry the failed checks), plus the drift and the
cross-system audit. HTML (scenarios/templates/report.html.j2, no external asset): per
workflow the vehicle's statuses in OpenFlex and ICAR side by side on a timeline, a
sequence diagram of the calls (actor → system, ICAR → OpenFlex) as inline SVG, and
every rule checked with the guide's French sentence.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

from icarflex.contracts import Contract, load_contract
from icarflex.scenarios.narrative import verdict_line
from icarflex.scenarios.results import ATTEMPT, Check, RunResult, ScenarioResult, StepResult
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
JUNIT_FILE, HTML_FILE = "icarflex-junit.xml", "icarflex-report.html"


def write_reports(run: RunResult, folder: Path, contract: Contract | None = None) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    junit, html = folder / JUNIT_FILE, folder / HTML_FILE
    ET.ElementTree(junit_xml(run, contract)).write(junit, encoding="utf-8", xml_declaration=True)
    html.write_text(html_report(run, contract), encoding="utf-8")
    return junit, html


# --- JUnit --------------------------------------------------------------------------
def junit_xml(run: RunResult, contract: Contract | None = None) -> ET.Element:
    contract = contract or load_contract()
    root = ET.Element("testsuites", name="icarflex", time=f"{run.duration:.3f}")
    drift = _suite(root, "parametrage-api-vo")
    _case(drift, "parametrage-api-vo", "dérive du paramétrage",
          [Check(f"dérive {row.row}", False, row.describe()) for row in run.drift])
    for scenario in run.scenarios:
        _scenario_suite(root, scenario, contract)
    final = _suite(root, "audit-croise")
    for check in run.final_checks:
        _case(final, "audit-croise", check.name, [] if check.ok else [check], skipped=check.skipped)
    _totals(root)
    return root


def _suite(root: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(root, "testsuite", name=name)


def _case(suite: ET.Element, classname: str, name: str, failures: list[Check],
          skipped: bool | str = False) -> ET.Element:
    case = ET.SubElement(suite, "testcase", classname=classname, name=name)
    if skipped:
        ET.SubElement(case, "skipped", message=skipped if isinstance(skipped, str) else "non exécuté")
    elif failures:
        failure = ET.SubElement(case, "failure", message=failures[0].name, type="ContractCheck")
        failure.text = "\n".join(f"{c.name} : {c.detail}" for c in failures)
    return case


def _scenario_suite(root: ET.Element, scenario: ScenarioResult, contract: Contract) -> None:
    prefix = "parcours" if scenario.kind == "workflow" else "jumeau"
    suite = _suite(root, f"{prefix}.{scenario.id}")
    classname = f"icarflex.{prefix}.{scenario.id}"
    if scenario.skipped:
        _case(suite, classname, scenario.id, [], skipped=scenario.skipped)
        return
    for number, step in enumerate(scenario.steps, 1):
        name = f"{number:02d} {step.step} ({step.actor} {step.action})"
        case = _case(suite, classname, name, step.failures())
        case.set("time", "0")
        for rule, ok in step.rule_marks().items():
            title = contract.rules[rule].title if rule in contract.rules else rule
            failed = [c for c in step.failures() if c.rule in (None, rule)]
            _case(suite, f"{classname}.{step.step}", f"{rule} {title}", [] if ok else failed)
    if scenario.error:
        _case(suite, classname, "parcours complet", [Check("parcours", False, scenario.error)])


def _totals(root: ET.Element) -> None:
    total = {"tests": 0, "failures": 0, "skipped": 0}
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        counts = {"tests": len(cases), "failures": sum(c.find("failure") is not None for c in cases),
                  "skipped": sum(c.find("skipped") is not None for c in cases)}
        suite.attrib.update({k: str(v) for k, v in counts.items()}, errors="0")
        total = {k: total[k] + counts[k] for k in total}
    root.attrib.update({k: str(v) for k, v in total.items()}, errors="0")


# --- HTML -----------------------------------------------------------------------------
def html_report(run: RunResult, contract: Contract | None = None) -> str:
    contract = contract or load_contract()
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["euros"] = euros
    template = env.get_template("report.html.j2")
    return template.render(
        run=run, contract=contract, generated=datetime.now().strftime("%d/%m/%Y %H:%M"),
        verdict=verdict_line(run).strip(),
        workflows=[_scenario_view(s, contract) for s in run.scenarios if s.kind == "workflow"],
        twins=[_scenario_view(s, contract) for s in run.scenarios if s.kind == "twin"],
        summary=run.rule_summary(), icar_order=list(contract.icar_statuses))


def euros(value: float | int | None) -> str:
    """12590.0 → « 12 590 € », 1.0 → « 1 € », 0.5 → « 0,50 € » (French money)."""
    if value is None:
        return "—"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return text.replace(",", " ").replace(".", ",") + " €"


def _scenario_view(scenario: ScenarioResult, contract: Contract) -> dict[str, Any]:
    return {"result": scenario, "anchor": f"{scenario.kind}-{scenario.id}",
            "timeline": [_timeline_column(step, contract) for step in scenario.steps if step.expected_status
                         or step.kind == ATTEMPT],
            "diagram": sequence_diagram(scenario),
            "rules": _rules_checked(scenario, contract)}


def _timeline_column(step: StepResult, contract: Contract) -> dict[str, Any]:
    def label(status: str | None, table: dict[str, Any]) -> str:
        return table[status].label if status in table else "—"
    return {"step": step, "openflex": step.openflex_status,
            "openflex_label": label(step.openflex_status, contract.statuses),
            "icar": step.icar_status, "icar_label": label(step.icar_status, contract.icar_statuses),
            "marks": step.rule_marks()}


def _rules_checked(scenario: ScenarioResult, contract: Contract) -> list[dict[str, Any]]:
    rules: dict[str, dict[str, Any]] = {}
    for step in scenario.steps:
        for rule, ok in step.rule_marks().items():
            entry = rules.setdefault(rule, {"id": rule, "ok": True, "steps": [],
                                            "rule": contract.rules.get(rule)})
            entry["ok"] = entry["ok"] and ok
            entry["steps"].append((step.step, ok))
    return sorted(rules.values(), key=lambda r: r["id"])


# --- the sequence diagram -----------------------------------------------------------------
LANE_GAP, TOP, ROW, MARGIN = 150, 46, 24, 80
SYSTEM_NAMES = {"icar": "ICAR DMS", "openflex": "OpenFlex"}


def sequence_diagram(scenario: ScenarioResult) -> dict[str, Any]:
    """Lanes (actors, then ICAR and OpenFlex) and rows (step bands, arrows) laid out for SVG."""
    seen = {call.actor for step in scenario.steps for call in step.calls}
    # Actors in the contract's order, the DMS last so that its arrows to ICAR stay short.
    actors = sorted(seen, key=lambda a: (a == "dms", contract_order(a)))
    lanes = [*actors, "icar", "openflex"]
    x = {lane: MARGIN + i * LANE_GAP for i, lane in enumerate(lanes)}
    rows: list[dict[str, Any]] = []
    y = TOP
    for step in scenario.steps:
        rows.append({"kind": "band", "y": y, "label": f"{step.step} — {step.actor} {step.action}",
                     "ok": step.ok, "attempt": step.kind == ATTEMPT})
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
    return {"lanes": [{"id": lane, "x": x[lane], "label": SYSTEM_NAMES.get(lane, lane),
                       "system": lane in SYSTEM_NAMES} for lane in lanes],
            "rows": rows, "width": MARGIN * 2 + LANE_GAP * (len(lanes) - 1), "height": y + 10}


def contract_order(actor: str) -> int:
    actors = load_contract().actors
    return actors.index(actor) if actor in actors else len(actors)


def _effect_code(entry: dict[str, Any]) -> str | None:
    response = entry.get("response")
    refused = int(entry.get("status") or 0) >= 400
    return response.get("code") if refused and isinstance(response, dict) else None


def _arrow(x1: int, x2: int, y: int, method: str, path: str, status: int, code: str | None,
           pushed: bool = False) -> dict[str, Any]:
    label = f"{method} {short_path(path)} → {status}{' ' + code if code else ''}"
    return {"kind": "arrow", "x1": x1, "x2": x2, "y": y, "label": label, "ok": 200 <= status < 300,
            "pushed": pushed, "mid": (x1 + x2) // 2}


def short_path(path: str) -> str:
    """`/api/v1/vehicles/3f2a…/physical-entry` → `/vehicles/{id}/physical-entry`."""
    path = re.sub(r"^/api/v1", "", path)
    return re.sub(r"/(?=[^/]*\d)[A-Za-z0-9_-]{6,}(?=/|$)", "/{id}", path)
