"""Plates (vehicle.yaml `registration.formats`): SIV by its real rules, FNI with Corsica and
overseas departments, foreign plates as bounded free text for an import only."""
from __future__ import annotations

import re

import pytest
from contract_samples import base_vehicle, creation_body
from icarflex.contracts import ApiVoSettings, evaluate, load_contract

CONTRACT = load_contract()
FORMATS = {fmt.id: fmt for fmt in CONTRACT.vehicle.fields["registration"].formats or ()}
NATIONAL = {"purchase_source": "ACHAT_DIRECT"}
IMPORT = {"purchase_source": "IMPORT"}


DEFAULTS = ApiVoSettings.defaults(CONTRACT)


def refused(change: dict, vehicle: dict | None = None) -> list[tuple[str, str | None]]:
    """What the engine says of an OpenFlex user creating (`vehicle` None) or changing a vehicle."""
    body = creation_body(CONTRACT, **change) if vehicle is None else change
    return [(v.code, v.field) for v in evaluate(CONTRACT, DEFAULTS, "openflex_user", vehicle, body)]


@pytest.mark.parametrize("plate", ["AB-123-CD", "FG-001-HJ", "SA-999-AS", "AW-450-WW", "ZZ-999-ZZ"])
def test_a_siv_plate_is_accepted(plate):
    assert re.fullmatch(FORMATS["SIV"].pattern, plate)
    assert refused({**NATIONAL, "registration": plate}) == []


@pytest.mark.parametrize(("plate", "why"), [
    ("AB-000-CD", "000 is never issued"), ("SS-123-AB", "SS is never issued"),
    ("AB-123-SS", "SS is never issued, on the right either"), ("WW-123-AB", "WW is the temporary series"),
    ("IA-123-AB", "no I"), ("AB-123-CO", "no O"), ("AU-123-AB", "no U"), ("AB-1234-CD", "three digits"),
    ("ab-123-cd", "capitals"), ("AB123CD", "hyphens")])
def test_a_plate_the_siv_never_issues_is_refused_naming_the_field(plate, why):
    assert not re.fullmatch(FORMATS["SIV"].pattern, plate), why
    assert ("VALIDATION_ERROR", "registration") in refused({**NATIONAL, "registration": plate}), why


@pytest.mark.parametrize("plate", ["1234 AB 75", "345 ABC 2A", "12 AB 2B", "9999 ZZZ 971", "1 A 976",
                                   "123-AB-13", "123AB01", "7 XY 95"])
def test_an_fni_plate_is_accepted_with_corsica_and_overseas_departments(plate):
    assert re.fullmatch(FORMATS["FNI"].pattern, plate)
    assert refused({**NATIONAL, "registration": plate}) == []


@pytest.mark.parametrize("plate", ["1234 AB 00", "1234 AB 96", "1234 AB 2C", "0123 AB 75", "12345 AB 75",
                                   "1234 ABCD 75", "1234 AB 977"])
def test_an_fni_plate_with_no_such_department_or_shape_is_refused(plate):
    assert ("VALIDATION_ERROR", "registration") in refused({**NATIONAL, "registration": plate})


@pytest.mark.parametrize("plate", ["M AB 1234", "1-ABC-234", "WW-123-AB", "B 123 ABC"])
def test_a_foreign_plate_is_accepted_for_an_import_only(plate):
    assert refused({**IMPORT, "registration": plate}) == []
    assert ("VALIDATION_ERROR", "registration") in refused({**NATIONAL, "registration": plate})


@pytest.mark.parametrize("plate", ["X", "A" * 16, "m ab 1234", "AB_123", " AB 123", "AB<script>"])
def test_a_foreign_plate_is_bounded_free_text(plate):
    assert ("VALIDATION_ERROR", "registration") in refused({**IMPORT, "registration": plate})


def test_leaving_the_import_source_with_a_foreign_plate_is_refused():
    vehicle = base_vehicle(CONTRACT, registration="M AB 1234", purchase_source="IMPORT")
    assert refused({"purchase_source": "ACHAT_DIRECT"}, vehicle) == [("VALIDATION_ERROR", "registration")]
    assert refused({"purchase_source": "ACHAT_DIRECT", "registration": "AB-123-CD"}, vehicle) == []


def test_the_request_pattern_is_the_union_of_the_formats():
    pattern = CONTRACT.vehicle.fields["registration"].pattern
    for fmt in FORMATS.values():
        assert all(re.fullmatch(pattern, example) for example in fmt.examples)
    assert not re.fullmatch(pattern, "m ab 1234")
