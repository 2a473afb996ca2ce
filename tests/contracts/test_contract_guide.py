"""`icarflex guide`: the French guide regenerated from the contract matches the guide, row by row."""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
import yaml
from guide_source import seed_lines, seed_section, seed_table
from icarflex.contracts import ApiVoSettings, load_contract
from icarflex.contracts.guide import TABLE_HEADERS, render_guide, workflow_heading
from icarflex.scenarios.cli import main

CONTRACT = load_contract()
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


def bullets(lines: list[str], marker: str) -> list[tuple[int, str]]:
    """(depth, text) of each bullet line (`- ` after two spaces per level), `marker` dropped."""
    out = []
    for line in lines:
        match = re.match(r"^( *)- (.*)$", line)
        if match:
            out.append((len(match[1]) // 2, match[2].removeprefix(marker).strip()))
    return out


def rendered_section(markdown: str, start: str, end: str) -> list[str]:
    lines = markdown.splitlines()
    first = lines.index(start) + 1
    return lines[first:lines.index(end, first)]


def test_the_regenerated_table_is_the_seeds_table_row_by_row(defaults):
    rows = seed_table()
    assert len(rows) == len(CONTRACT.parameterization.rows)
    table = md_table(render_guide(CONTRACT, defaults, "md"), TABLE_HEADERS[0])
    assert [cells[:3] for cells in table] == rows


def test_the_regenerated_sommaire_is_the_seeds(defaults):
    seed = [re.sub(r"^\d+\. ", "", line) for line in seed_section("# Sommaire", "# 1. Préambule") if line]
    markdown = render_guide(CONTRACT, defaults, "md")
    rendered = [re.sub(r"^\d+\. ", "", line)
                for line in rendered_section(markdown, "## Sommaire", f"## {CONTRACT.rules_data.section}")
                if re.match(r"^\d+\. ", line)]
    assert rendered == seed


def test_the_regenerated_section_1_is_the_seeds_bullets_and_sub_bullets(defaults):
    """§1 word for word, with its hierarchy; the rule tags icarflex adds are the only difference."""
    seed = bullets(seed_section("## Points d'attention", "## 2. Paramétrage API VO"), "❖ ")
    markdown = render_guide(CONTRACT, defaults, "md")
    rendered = [(depth, re.sub(r" \*\(R\d+(, R\d+)*\)\*$", "", text)) for depth, text in
                bullets(rendered_section(markdown, "### Points d'attention", "## 2. Paramétrage API VO"), "")]
    assert rendered == seed


def test_sections_3_to_5_keep_the_guides_headings_and_mark_every_workflow_reconstructed(defaults):
    seed = [line.lstrip("# ") for line in seed_lines()
            if re.match(r"^#+ ([345]\. |Proposition)", line)]
    markdown = render_guide(CONTRACT, defaults, "md")
    headings = [line.lstrip("# ") for line in markdown.splitlines()
                if re.match(r"^#{2,3} ([345]\. |Proposition)", line)]
    assert headings == seed
    mark = f"*« {CONTRACT.workflows_data.reconstructed} »*"
    assert markdown.count(mark) == len(CONTRACT.workflows)


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
            assert (state in cells[3]) is bool(t.gated_actors or t.gated_off_actors)
            assert cells[6] == ", ".join(t.rules)


@pytest.mark.parametrize("workflow", CONTRACT.workflows, ids=lambda workflow: workflow.id)
def test_every_workflow_is_printed_with_its_steps_rules_and_inferred_steps(defaults, workflow):
    markdown = render_guide(CONTRACT, defaults, "md")
    before, section = markdown.split(f" {workflow_heading(workflow)}\n", 1)
    assert f"## {workflow.guide_section}\n" in before  # under its guide section's heading
    steps = md_table(section, "#")
    assert [(cells[1], cells[2], cells[6], cells[7] == "*inférée*") for cells in steps] == [
        (s.id, s.actor, ", ".join(s.rules), s.inferred) for s in workflow.steps]
    inferred = next(line for line in section.splitlines() if line.startswith("Étapes inférées"))
    assert re.findall(r"`(\w+)`", inferred) == [s.id for s in workflow.steps if s.inferred]


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
              CONTRACT.lifeline.transitions, CONTRACT.codes, *(w.steps for w in CONTRACT.workflows),
              [p for s in CONTRACT.statuses.values() for p in s.icar_pending]]
    # A header row + one per item (a table with no item is left out).
    assert page.count("<tr") == sum(1 + len(rows) for rows in tables if rows)


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
