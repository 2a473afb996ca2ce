"""Profiles (the shape of GET /settings/api-vo, any subset) laid over the guide's defaults.

Every row can be flipped through a profile; a malformed profile is a ProfileError naming
the row; the example profiles of profiles/ load and change exactly what they say.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from icarflex.contracts import ApiVoSettings, ProfileError, load_contract, load_profile
from icarflex.contracts.profile import SECTIONS

CONTRACT = load_contract()
PROFILES_DIR = Path(__file__).parents[2] / "profiles"
SECTION_OF = {kind: section for section, kind in SECTIONS.items()}


def overlay_for(row_id: str, value: bool) -> dict[str, Any]:
    """A one-row profile in the shape of GET /settings/api-vo."""
    row = CONTRACT.rows[row_id]
    return {SECTION_OF[row.kind]: {row_id: {"dms_modifiable": value} if row.kind == "field" else value}}


@pytest.mark.parametrize("row", CONTRACT.parameterization.rows, ids=lambda row: row.id)
def test_a_profile_flips_one_row_and_keeps_the_others(defaults, row):
    flipped = defaults.merge(overlay_for(row.id, not row.default))
    assert flipped[row.id] is (not row.default)
    assert defaults.diff(flipped) == [row.id]


def test_the_settings_json_is_a_profile_of_itself(defaults):
    changed = defaults.merge(overlay_for("mileage", False)).merge(overlay_for("create_vehicles", True))
    assert ApiVoSettings.defaults(CONTRACT).merge(changed.to_json()) == changed
    assert set(changed.to_json()) == set(SECTIONS)


def test_an_empty_or_missing_profile_is_the_guide_defaults(defaults, tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", encoding="utf-8")
    assert load_profile(empty, CONTRACT) == defaults
    assert load_profile(None, CONTRACT) == defaults
    assert defaults.merge({"settings": None, "fields": {}}) == defaults


MALFORMED = {  # id: (profile, the row the message names)
    "unknown-row-id": ({"fields": {"vni": {"dms_modifiable": False}}}, "fields.vni"),
    "field-under-settings": ({"settings": {"vin": True}}, "settings.vin"),
    "setting-under-capabilities": ({"capabilities": {"uc_price_editable": True}},
                                   "capabilities.uc_price_editable"),
    "non-bool-capability": ({"capabilities": {"create_vehicles": "yes"}}, "capabilities.create_vehicles"),
    "non-bool-field": ({"fields": {"mileage": {"dms_modifiable": "non"}}}, "fields.mileage"),
    "field-without-dms-modifiable": ({"fields": {"mileage": False}}, "fields.mileage"),
    "extra-key-on-field": ({"fields": {"mileage": {"dms_modifiable": False, "note": "x"}}}, "fields.mileage"),
    "unknown-section": ({"options": {"create_vehicles": True}}, "options"),
    "section-not-a-mapping": ({"fields": ["vin"]}, "fields"),
    "not-a-mapping": (["settings"], "(root)"),
}


@pytest.mark.parametrize("profile, row", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_profile_is_refused_naming_the_row(defaults, tmp_path, profile, row):
    with pytest.raises(ProfileError) as failure:
        defaults.merge(profile)
    assert failure.value.fields == [row]
    path = tmp_path / "dealer.yaml"
    path.write_text(yaml.safe_dump(profile), encoding="utf-8")
    with pytest.raises(ProfileError) as from_file:
        load_profile(path, CONTRACT)
    assert row in str(from_file.value) and str(path) in str(from_file.value)


def test_every_problem_of_a_profile_is_named(defaults):
    with pytest.raises(ProfileError) as failure:
        defaults.merge({"settings": {"vin": True}, "fields": {"mileage": {"dms_modifiable": 1}}})
    assert failure.value.fields == ["settings.vin", "fields.mileage"]


def test_a_profile_that_is_not_yaml_is_refused(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("fields: {mileage: [\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="broken.yaml"):
        load_profile(path, CONTRACT)


def test_a_missing_profile_file_is_refused(tmp_path):
    with pytest.raises(ProfileError, match="absent.yaml"):
        load_profile(tmp_path / "absent.yaml", CONTRACT)


# --- the example profiles of profiles/ ---------------------------------------------
EXAMPLES = {
    "guide-defaults.yaml": [],
    "dms-master.yaml": ["uc_car_management_activated"],
    "no-low-prices.yaml": ["uc_price_editable"],
    "dms-creates-vehicles.yaml": ["create_vehicles"],
    "locked-mileage.yaml": ["mileage"],
}


@pytest.mark.parametrize("path", sorted(PROFILES_DIR.glob("*.yaml")), ids=lambda path: path.name)
def test_every_example_profile_loads_and_says_what_it_models(path):
    assert path.read_text(encoding="utf-8").startswith("# ")
    load_profile(path, CONTRACT)


@pytest.mark.parametrize("name, changed", list(EXAMPLES.items()), ids=list(EXAMPLES))
def test_an_example_profile_changes_exactly_its_rows(defaults, name, changed):
    settings = load_profile(PROFILES_DIR / name, CONTRACT)
    assert defaults.diff(settings) == changed
    assert all(settings[row_id] is not CONTRACT.rows[row_id].default for row_id in changed)
