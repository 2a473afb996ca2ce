"""Drift: every row where the target's parameterization differs from the expected one is named."""
from __future__ import annotations

import pytest
from icarflex.contracts import ApiVoSettings, load_contract
from icarflex.contracts.profile import SECTIONS
from icarflex.scenarios.drift import compare

CONTRACT = load_contract()
DEFAULTS = ApiVoSettings.defaults(CONTRACT)


def test_a_target_serving_the_guide_defaults_does_not_drift() -> None:
    assert compare(DEFAULTS, DEFAULTS.to_json()) == []


@pytest.mark.parametrize("row", [row.id for row in CONTRACT.parameterization.rows])
def test_flipping_any_row_is_reported_by_name(row: str) -> None:
    section = next(name for name, kind in SECTIONS.items() if kind == CONTRACT.rows[row].kind)
    value = not DEFAULTS[row]
    flipped = DEFAULTS.merge({section: {row: {"dms_modifiable": value} if section == "fields" else value}})
    drift = compare(DEFAULTS, flipped.to_json())
    assert [(d.row, d.expected, d.found) for d in drift] == [(row, DEFAULTS[row], value)]
    assert row in drift[0].describe() and CONTRACT.rows[row].label in drift[0].describe()


def test_a_row_missing_on_the_target_and_an_unknown_one_are_reported() -> None:
    document = DEFAULTS.to_json()
    del document["fields"]["vin"]
    document["capabilities"]["teleport_vehicles"] = True
    rows = {d.row for d in compare(DEFAULTS, document)}
    assert rows == {"vin", "capabilities.teleport_vehicles"}


def test_an_unreadable_answer_is_drift() -> None:
    assert compare(DEFAULTS, None)
