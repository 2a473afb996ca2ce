"""Reports: the JUnit parses with a test case per step and per rule check; the HTML holds every step,
the timeline of both systems, the sequence diagram and the guide's sentences."""
from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from icarflex.contracts import load_contract
from icarflex.scenarios.report import write_reports
from icarflex.scenarios.results import RunResult

CONTRACT = load_contract()
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def reports(full_run: RunResult, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_reports(full_run, tmp_path_factory.mktemp("report"))


def test_junit_parses_with_a_test_case_per_step_and_per_rule(reports: tuple[Path, Path],
                                                             full_run: RunResult) -> None:
    root = ET.parse(reports[0]).getroot()
    assert root.tag == "testsuites" and root.get("failures") == "0"
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    for result in full_run.scenarios:
        suite = suites[f"{'parcours' if result.kind == 'workflow' else 'jumeau'}.{result.id}"]
        names = [case.get("name") for case in suite.iter("testcase")]
        for number, step in enumerate(result.steps, 1):
            assert any(name.startswith(f"{number:02d} {step.step} ") for name in names)
            for rule in step.rule_marks():
                assert any(case.get("classname", "").endswith(f".{step.step}") and case.get("name", "")
                           .startswith(rule) for case in suite.iter("testcase"))


def test_junit_carries_failures(full_run: RunResult, tmp_path: Path) -> None:
    broken = RunResult(full_run.seed, full_run.openflex_url, full_run.icar_url, None,
                       scenarios=full_run.scenarios[:1])
    step = broken.scenarios[0].steps[0]
    from icarflex.scenarios.results import Check
    step.checks.append(Check("planted", False, "planted failure"))
    try:
        root = ET.parse(write_reports(broken, tmp_path)[0]).getroot()
        assert int(root.get("failures")) >= 1
        assert "planted failure" in "".join(f.text or "" for f in root.iter("failure"))
    finally:
        step.checks.pop()


def test_html_holds_every_step_every_workflow_and_the_guides_sentences(reports: tuple[Path, Path],
                                                                        full_run: RunResult) -> None:
    page = reports[1].read_text(encoding="utf-8")
    assert "http://" not in page.replace(full_run.openflex_url, "").replace(full_run.icar_url, "").replace(
        "http://www.w3.org/2000/svg", "")  # self-contained: no external asset
    text = html.unescape(page)
    for result in full_run.scenarios:
        if result.skipped:
            continue
        anchor = f'id="{result.kind}-{result.id}"'
        assert anchor in page
        section = page[page.index(anchor):].split("</section>", 1)[0]  # this scenario's own section
        for step in result.steps:
            assert f'data-step="{step.step}"' in section or step.kind == "setup", (result.id, step.step)
    for rule in CONTRACT.rules_data.rules:
        assert " ".join(rule.guide.split()) in " ".join(text.split())
    assert page.count("<svg") >= len(CONTRACT.workflows)
    for status in CONTRACT.lifeline.statuses:
        assert status.label in text


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_a_dealer_sees_the_timeline_and_every_workflow_in_a_browser(reports: tuple[Path, Path]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(reports[1].as_uri())
            for workflow in CONTRACT.workflows:
                section = page.locator(f"#workflow-{workflow.id}")
                assert section.is_visible()
                assert section.locator(".timeline").is_visible()
                assert section.locator("svg.sequence").is_visible()
                for step in workflow.steps:
                    assert section.locator(f'.timeline [data-step="{step.id}"]').is_visible()
            assert "CONFORME" in page.locator("header .verdict").inner_text()
        finally:
            browser.close()


def test_demo_serves_replays_everything_and_writes_the_report(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from icarflex.scenarios.cli import main

    flags = ["--exit", "--openflex-port", "0", "--icar-port", "0"]
    assert main(["demo", *flags, "--report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "icarflex-report.html") in out and "CONFORME" in out
    assert ET.parse(tmp_path / "icarflex-junit.xml").getroot().get("failures") == "0"
