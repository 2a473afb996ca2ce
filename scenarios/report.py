"""The reports of a run: JUnit XML for CI and one self-contained HTML page for a dealer.

JUnit: a test suite per workflow and per negative twin, a test case per step and per
rule check of that step (failures carry the failed checks), plus the drift and the
cross-system audit. HTML (scenarios/templates/report.html.j2, no external asset, a print
stylesheet for A4): the verdict per workflow and per rule on the first screen, then per
workflow its timeline of both systems (every step, French labels, ids in small print),
its forbidden attempts shown as refusals with the rule and the guide's sentence, and its
call diagram as inline SVG (report_views.py shapes the values, sequence.py the diagram).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from icarflex.contracts import Contract, load_contract
from icarflex.scenarios.report_views import report_context
from icarflex.scenarios.results import Check, RunResult, ScenarioResult
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
    return env.get_template("report.html.j2").render(**report_context(run, contract))


def euros(value: float | int | None) -> str:
    """12590.0 → « 12 590 € », 1.0 → « 1 € », 0.5 → « 0,50 € » (French money)."""
    if value is None:
        return "—"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return text.replace(",", "\u202f").replace(".", ",") + "\u00a0€"
