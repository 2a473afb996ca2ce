"""`icarflex diff`: every row that differs between two profiles, classified breaking or not."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from icarflex.contracts import ApiVoSettings, load_contract
from icarflex.contracts.diff import diff_settings, is_breaking
from icarflex.contracts.profile import MASTER_SETTING
from icarflex.scenarios.cli import main

CONTRACT = load_contract()
PROFILES_DIR = Path(__file__).parents[2] / "profiles"


def with_row(defaults: ApiVoSettings, row_id: str, value: bool) -> ApiVoSettings:
    return ApiVoSettings(CONTRACT, {**defaults.values, row_id: value})


@pytest.mark.parametrize("row", CONTRACT.parameterization.rows, ids=lambda row: row.id)
def test_a_row_turned_off_breaks_a_dms_connector_and_turned_on_does_not(defaults, row):
    on, off = with_row(defaults, row.id, True), with_row(defaults, row.id, False)
    [lost] = diff_settings(CONTRACT, on, off)
    [gained] = diff_settings(CONTRACT, off, on)
    assert (lost.id, lost.kind, lost.label) == (row.id, row.kind, row.label)
    assert (lost.value_a, lost.value_b) == (True, False)
    assert lost.breaking and not gained.breaking
    assert lost.reason and lost.reason_en and lost.reason != gained.reason


def test_identical_parameterizations_have_no_difference(defaults):
    assert diff_settings(CONTRACT, defaults, defaults.merge({})) == []


@pytest.mark.parametrize("row", CONTRACT.rows_of("field"), ids=lambda row: row.id)
def test_a_field_flip_is_harmless_while_the_dms_is_master(defaults, row):
    master = with_row(defaults, MASTER_SETTING, True)
    [change] = diff_settings(CONTRACT, with_row(master, row.id, True), with_row(master, row.id, False))
    assert not change.breaking and MASTER_SETTING in change.reason_en


def test_the_dms_losing_master_breaks_even_when_fields_open_up(defaults):
    master = with_row(defaults, MASTER_SETTING, True)
    every_field = {row.id: {"dms_modifiable": True} for row in CONTRACT.rows_of("field")}
    opened = defaults.merge({"fields": every_field})
    changes = diff_settings(CONTRACT, master, opened)
    assert is_breaking(changes)
    assert [c.id for c in changes if c.breaking] == [MASTER_SETTING]


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_icarflex_diff_exits_0_when_nothing_breaks(capsys):
    a, b = str(PROFILES_DIR / "locked-mileage.yaml"), str(PROFILES_DIR / "guide-defaults.yaml")
    assert main(["diff", a, b]) == 0
    out = capsys.readouterr().out
    assert "mileage" in out and "0 cassante" in out


def test_icarflex_diff_exits_0_on_identical_profiles(capsys, tmp_path):
    a = write(tmp_path, "a.yaml", "{}\n")
    assert main(["diff", a, a]) == 0
    assert "Aucune différence" in capsys.readouterr().out


def test_icarflex_diff_exits_1_when_the_dms_loses_a_right(capsys, tmp_path):
    a = write(tmp_path, "a.yaml", "{}\n")
    b = write(tmp_path, "b.yaml", "fields: {vat_recoverable: {dms_modifiable: false}}\n"
                                  "capabilities: {create_vehicles: true}\n")
    assert main(["diff", a, b, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["breaking"] is True
    assert [(r["id"], r["breaking"]) for r in report["rows"]] == [("vat_recoverable", True),
                                                                  ("create_vehicles", False)]


def test_icarflex_diff_exits_2_on_an_invalid_profile_naming_the_row(capsys, tmp_path):
    a = write(tmp_path, "a.yaml", "{}\n")
    b = write(tmp_path, "b.yaml", "settings: {create_vehicles: true}\n")
    assert main(["diff", a, b]) == 2
    captured = capsys.readouterr()
    assert "settings.create_vehicles" in captured.err and captured.out == ""
