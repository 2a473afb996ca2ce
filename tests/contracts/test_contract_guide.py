"""`icarflex guide`: the French guide regenerated from the contract matches the guide, row by row."""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from icarflex.contracts import ApiVoSettings, load_contract
from icarflex.contracts.guide import TABLE_HEADERS, render_guide
from icarflex.scenarios.cli import main

CONTRACT = load_contract()
GUIDE_TABLE = Path(__file__).with_name("guide_table.tsv")
VOID_TAGS = {"meta", "br", "hr", "img", "link", "input"}


def unescape_md(cell: str) -> str:
    return re.sub(r"\\(.)", r"\1", cell.strip()).strip("`")


def md_table(markdown: str, first_header: str) -> list[list[str]]:
    """The cells of the Markdown table whose first header is `first_header`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([unescape_md(cell) for cell in re.split(r"(?<!\\)\|", line.strip()[1:-1])])
    return rows


def flipped(defaults: ApiVoSettings, row_id: str) -> ApiVoSettings:
    return ApiVoSettings(CONTRACT, {**defaults.values, row_id: not defaults[row_id]})


def test_the_regenerated_table_is_the_guide_table_row_by_row(defaults):
    guide = [line.split("\t") for line in GUIDE_TABLE.read_text(encoding="utf-8").splitlines()]
    table = md_table(render_guide(CONTRACT, defaults, "md"), TABLE_HEADERS[0])
    assert [cells[:3] for cells in table] == guide


def test_the_table_names_each_row_id_and_marks_what_the_guide_leaves_open(defaults):
    table = md_table(render_guide(CONTRACT, defaults, "md"), TABLE_HEADERS[0])
    rows = CONTRACT.parameterization.rows
    assert [(cells[3], cells[4]) for cells in table] == [(row.id, "TBD" if row.tbd else "") for row in rows]


@pytest.mark.parametrize("row", CONTRACT.parameterization.rows, ids=lambda row: row.id)
def test_a_row_a_profile_changes_shows_the_active_value_and_the_guide_one(defaults, row):
    settings = flipped(defaults, row.id)
    table = md_table(render_guide(CONTRACT, settings, "md"), TABLE_HEADERS[0])
    active = "OUI" if settings[row.id] else "NON"
    values = {cells[3]: cells[1] for cells in table}
    assert values[row.id] == f"**{active}** (guide : {row.guide_value})"
    others = [r for r in CONTRACT.parameterization.rows if r.id != row.id]
    assert [values[r.id] for r in others] == [r.guide_value for r in others]
    page = render_guide(CONTRACT, settings, "html")
    assert re.findall(r'<tr class="changed[^"]*"><td>([^<]*)</td>', page) == [html.escape(row.guide_label)]


@pytest.mark.parametrize("rule", CONTRACT.rules.values(), ids=lambda rule: rule.id)
def test_every_rule_is_printed_with_its_guide_sentence(defaults, rule):
    markdown = render_guide(CONTRACT, defaults, "md")
    line = next(line for line in markdown.splitlines() if line.startswith(f"- **{rule.id} — "))
    assert unescape_md(line).endswith(rule.guide)
    assert ("(inféré)" in line) is (rule.source == "inferred")


def test_the_status_table_gives_each_icar_status_and_its_source(defaults):
    table = md_table(render_guide(CONTRACT, defaults, "md"), "Statut OpenFlex")
    expected = [[s.id, s.label, s.icar, "guide" if s.source == "guide" else "inférée",
                 "guide" if s.mapping_source == "guide" else "inférée", "oui" if s.published else ""]
                for s in CONTRACT.statuses.values()]
    assert table == expected


@pytest.mark.parametrize("destination", list(CONTRACT.lifeline.lifelines))
def test_every_lifeline_is_printed_in_order(defaults, destination):
    labels = " → ".join(CONTRACT.statuses[s].label for s in CONTRACT.lifeline.lifelines[destination])
    assert f"- **{destination}** : {labels}" in render_guide(CONTRACT, defaults, "md")


def test_the_transitions_table_names_actors_and_the_active_gate(defaults):
    on = defaults.merge({"capabilities": {row.id: True for row in CONTRACT.rows_of("capability")}})
    off = defaults.merge({"capabilities": {row.id: False for row in CONTRACT.rows_of("capability")}})
    for settings, state in ((on, "(actif)"), (off, "(inactif)")):
        table = md_table(render_guide(CONTRACT, settings, "md"), "De")
        assert len(table) == len(CONTRACT.lifeline.transitions)
        for cells, t in zip(table, CONTRACT.lifeline.transitions, strict=True):
            assert [a.strip("`") for a in cells[2].split(", ") if a] == list(t.actors)
            assert (state in cells[3]) is bool(t.gated_actors)
            assert cells[6] == ", ".join(t.rules)


@pytest.mark.parametrize("workflow", CONTRACT.workflows, ids=lambda workflow: workflow.id)
def test_every_workflow_is_printed_with_its_steps_and_rules(defaults, workflow):
    markdown = render_guide(CONTRACT, defaults, "md")
    section = markdown.split(f"### {workflow.guide_section} — {workflow.title}", 1)[1]
    steps = md_table(section, "#")
    assert [(cells[1], cells[2], cells[6]) for cells in steps] == [
        (s.id, s.actor, ", ".join(s.rules)) for s in workflow.steps]


class _TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID_TAGS:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(tag)


def test_the_html_guide_is_one_well_formed_self_contained_page(defaults):
    page = render_guide(CONTRACT, defaults, "html")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r"<(script|link|img|iframe)\b|\b(src|href)\s*=|url\(", page)
    checker = _TagChecker()
    checker.feed(page)
    assert checker.problems == [] and checker.stack == []
    tables = [CONTRACT.parameterization.rows, CONTRACT.statuses, CONTRACT.icar_statuses,
              CONTRACT.lifeline.transitions, CONTRACT.codes, *(w.steps for w in CONTRACT.workflows)]
    assert page.count("<tr") == sum(1 + len(rows) for rows in tables)  # a header row + one per item


def test_contract_text_is_escaped_in_both_formats(data_copy):
    path = data_copy / "parameterization.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    hostile = '<script>alert("x")</script> & a | pipe *star*'
    data["rows"][1]["comment"] = hostile
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    contract = load_contract(data_copy)
    page = render_guide(contract, None, "html")
    assert "<script>" not in page and html.escape(hostile) in page
    table = md_table(render_guide(contract, None, "md"), TABLE_HEADERS[0])
    assert table[1][2] == hostile and len(table[1]) == len(TABLE_HEADERS)


def test_an_unknown_format_is_refused(defaults):
    with pytest.raises(ValueError, match="pdf"):
        render_guide(CONTRACT, defaults, "pdf")


# --- the CLI -------------------------------------------------------------------------
def test_icarflex_guide_prints_the_markdown_guide(capsys):
    assert main(["guide"]) == 0
    out = capsys.readouterr().out
    assert out == render_guide(CONTRACT, None, "md")


def test_icarflex_guide_writes_the_html_guide_of_a_profile(capsys, tmp_path):
    profile = tmp_path / "dealer.yaml"
    profile.write_text("fields: {mileage: {dms_modifiable: false}}\n", encoding="utf-8")
    output = tmp_path / "guide.html"
    assert main(["guide", "--profile", str(profile), "--format", "html", "--output", str(output)]) == 0
    page = output.read_text(encoding="utf-8")
    assert re.findall(r'<tr class="changed[^"]*"><td>([^<]*)</td>', page) == ["Kilométrage VO modifiable"]
    assert capsys.readouterr().out == ""


def test_icarflex_guide_refuses_a_bad_profile_naming_the_row(capsys, tmp_path):
    profile = tmp_path / "dealer.yaml"
    profile.write_text("fields: {vni: {dms_modifiable: false}}\n", encoding="utf-8")
    assert main(["guide", "--profile", str(profile)]) == 2
    captured = capsys.readouterr()
    assert "fields.vni" in captured.err and captured.out == ""


def test_icarflex_guide_reports_an_unwritable_output(capsys, tmp_path):
    assert main(["guide", "--output", str(tmp_path / "missing" / "guide.md")]) == 2
    assert "guide.md" in capsys.readouterr().err
