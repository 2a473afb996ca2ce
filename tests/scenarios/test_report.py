"""Reports: the JUnit parses with a test case per step and per rule check; the HTML, read in Debian's
chromium, gives the verdicts on its first screen, every step at 1,024 px and on A4, refusals as
refusals with the guide's sentence, and a call diagram whose labels never overlap."""
from __future__ import annotations

import html
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from icarflex.contracts import load_contract
from icarflex.scenarios import browser
from icarflex.scenarios.report import write_reports
from icarflex.scenarios.results import RunResult

CONTRACT = load_contract()


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


def test_html_holds_every_step_every_attempt_and_the_guides_sentences(reports: tuple[Path, Path],
                                                                       full_run: RunResult) -> None:
    page = reports[1].read_text(encoding="utf-8")
    assert "http://" not in page.replace(full_run.openflex_url, "").replace(full_run.icar_url, "").replace(
        "http://www.w3.org/2000/svg", "")  # self-contained: no external asset
    assert f'href="{full_run.openflex_url}' not in page  # a temporary address is no link
    text = " ".join(html.unescape(page).split())
    assert "adresse temporaire" in text and "jumeau" not in text.lower()
    for result in full_run.scenarios:
        if result.kind == "twin":
            assert f'data-twin="{result.id}"' in page, result.id
            continue
        anchor = f'id="workflow-{result.id}"'
        section = page[page.index(anchor):].split("</section>", 1)[0]  # this workflow's own section
        for step in result.steps:
            assert f'data-step="{step.step}"' in section, (result.id, step.step)
            assert CONTRACT.labels.step(step.step) in html.unescape(section)
    for rule in CONTRACT.rules_data.rules:
        assert " ".join(rule.guide.split()) in text
    for status in CONTRACT.lifeline.statuses:
        assert status.label in text
    for actor in {s.actor for r in full_run.scenarios for s in r.steps if s.kind != "setup"}:
        assert CONTRACT.labels.actor(actor) in text


@pytest.fixture(scope="module")
def chromium():  # noqa: ANN201 - a Playwright Browser
    if not browser.available():
        pytest.skip("Debian's chromium is not installed")
    with browser.chromium() as started:
        yield started


@pytest.mark.browser
def test_the_first_screen_gives_the_verdict_per_workflow_and_per_rule(reports: tuple[Path, Path],
                                                                      chromium) -> None:  # noqa: ANN001
    page = chromium.new_page(viewport={"width": 1024, "height": 900})
    page.goto(reports[1].as_uri())
    assert "CONFORME" in page.locator("#verdict").inner_text()
    rows = [f'[data-board-workflow="{w.id}"]' for w in CONTRACT.workflows]
    rows += [f'[data-board-rule="{r.id}"]' for r in CONTRACT.rules_data.rules]
    for selector in rows:
        box = page.locator(selector).bounding_box()
        assert box and box["y"] + box["height"] <= 900 and box["x"] + box["width"] <= 1024, selector
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024  # nothing cut at the right


@pytest.mark.browser
def test_a_refused_attempt_is_shown_red_with_its_rule_and_the_guides_sentence(reports: tuple[Path, Path],
                                                                              full_run: RunResult,
                                                                              chromium) -> None:  # noqa: ANN001
    page = chromium.new_page(viewport={"width": 1024, "height": 900})
    page.goto(reports[1].as_uri())
    twins = [t for t in full_run.scenarios if t.kind == "twin" and not t.skipped]
    assert twins
    for twin in twins:
        card = page.locator(f'.attempt[data-twin="{twin.id}"]')
        assert card.get_attribute("data-verdict") == "caught"
        assert card.evaluate("e => getComputedStyle(e).borderLeftColor") == "rgb(198, 40, 40)", twin.id
        text = " ".join(card.inner_text().split())
        assert "BLOQUÉ" in text.upper() and "✓" not in text, (twin.id, text)
        for rule in twin.attempt.refusal["rule"]:
            assert rule in text and " ".join(CONTRACT.rules[rule].guide.split()) in text


@pytest.mark.browser
def test_every_particulier_step_reads_at_1024_px(reports: tuple[Path, Path], full_run: RunResult,
                                                 chromium) -> None:  # noqa: ANN001
    page = chromium.new_page(viewport={"width": 1024, "height": 900})
    page.goto(reports[1].as_uri())
    replayed = {s.id for s in full_run.scenarios if s.kind == "workflow" and not s.skipped}
    assert replayed
    for workflow in (w for w in CONTRACT.workflows if w.id in replayed):  # a skipped one has no timeline
        for step in workflow.steps:
            row = page.locator(f'#workflow-{workflow.id} .timeline [data-step="{step.id}"]')
            assert row.is_visible(), (workflow.id, step.id)
            box = row.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1024, (workflow.id, step.id, box)
            assert CONTRACT.labels.step(step.id) in row.inner_text()


@pytest.mark.browser
def test_every_particulier_step_is_printed_on_a4(reports: tuple[Path, Path], chromium,  # noqa: ANN001
                                                 tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    page = chromium.new_page()
    page.goto(reports[1].as_uri())
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    reader = pypdf.PdfReader(str(pdf))
    text = " ".join(unicodedata.normalize("NFKC", p.extract_text()) for p in reader.pages)
    text = " ".join(text.split())
    for step in CONTRACT.workflow["particulier"].steps:
        assert CONTRACT.labels.step(step.id) in text, step.id
        assert CONTRACT.statuses[step.status].label in text
    # a page or two per workflow (each starts a page), the first screen and the guide's rules
    assert len(reader.pages) <= 2 * len(CONTRACT.workflows) + 4, len(reader.pages)


@pytest.mark.browser
def test_no_label_of_the_call_diagram_overlaps_an_arrow_or_another_label(reports: tuple[Path, Path],
                                                                        chromium) -> None:  # noqa: ANN001
    page = chromium.new_page(viewport={"width": 1024, "height": 900})
    page.goto(reports[1].as_uri())
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    overlaps = page.evaluate("""() => {
      const found = [];
      const hit = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width
                            && a.y < b.y + b.height && b.y < a.y + a.height;
      for (const svg of document.querySelectorAll("svg.sequence")) {
        const texts = [...svg.querySelectorAll("text")].map(t => [t.textContent, t.getBBox()]);
        const lines = [...svg.querySelectorAll("line.call")].map(l => l.getBBox())
          .map(b => ({x: b.x, y: b.y - 1, width: b.width, height: b.height + 2}));
        texts.forEach(([name, box], i) => {
          lines.forEach(line => { if (hit(box, line)) found.push(name + " × arrow"); });
          texts.slice(i + 1).forEach(([other, o]) => { if (hit(box, o)) found.push(name + " × " + other); });
        });
      }
      return found;
    }""")
    assert overlaps == []


def test_demo_serves_replays_everything_and_writes_the_report(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from icarflex.scenarios.cli import main

    flags = ["--exit", "--openflex-port", "0", "--icar-port", "0"]
    assert main(["demo", *flags, "--report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "icarflex-report.html") in out and "CONFORME" in out
    assert ET.parse(tmp_path / "icarflex-junit.xml").getroot().get("failures") == "0"
