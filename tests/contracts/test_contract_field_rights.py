"""Who may write which vehicle field (guide §2, rules R6, R7, R8, R2), generated from the contract's rows.

Every row of the parameterization gets its tests from the contract itself: the DMS's
write of a field is allowed iff the row is OUI, and flipping the row in a profile flips
the verdict. A new row needs no new test code.
"""
from __future__ import annotations

from typing import Any

import pytest
from contract_samples import base_vehicle, destination_for, sample_value, writable_fields
from icarflex.contracts import ApiVoSettings, Contract, evaluate, load_contract
from icarflex.contracts.profile import MASTER_SETTING, PRICE_SETTING

CONTRACT = load_contract()
FIELD_ROWS = CONTRACT.rows_of("field")
READ_ONLY = [name for name, spec in CONTRACT.vehicle.fields.items() if spec.read_only]
OPENFLEX_ACTORS = [actor for actor in CONTRACT.actors if actor not in ("dms", "admin")]


def dms_write(contract: Contract, field: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A vehicle and a change in which the DMS writes `field` with a valid, different value.

    For `status` that is the DMS's own legit move (guide §2: "Pour le passage en statut
    Entrée Physique"): the first transition the DMS makes without a capability.
    """
    if field == "status":
        move = next(t for t in contract.lifeline.transitions if t.from_ and "dms" in t.actors)
        vehicle = base_vehicle(contract, move.from_, destination_for(contract, move.from_, move.to))
        return vehicle, {"status": move.to}
    vehicle = base_vehicle(contract)
    return vehicle, {field: sample_value(contract, field, vehicle[field], vehicle)}


def refusals(violations: list[Any]) -> list[tuple[str, str | None, str | None]]:
    return [(v.code, v.rule, v.field) for v in violations]


def flip_field(settings: ApiVoSettings, field: str) -> ApiVoSettings:
    return settings.merge({"fields": {field: {"dms_modifiable": not settings[field]}}})


@pytest.mark.parametrize("row", FIELD_ROWS, ids=lambda row: row.id)
def test_dms_may_write_a_field_iff_its_row_is_oui(defaults, row):
    vehicle, change = dms_write(CONTRACT, row.id)
    violations = evaluate(CONTRACT, defaults, "dms", vehicle, change)
    if row.default:
        assert violations == []
    else:
        assert refusals(violations) == [("FIELD_NOT_MODIFIABLE", "R6", row.id)]
        assert violations[0].row == row.id
        assert violations[0].label == row.label


@pytest.mark.parametrize("row", FIELD_ROWS, ids=lambda row: row.id)
def test_flipping_a_field_row_in_a_profile_flips_the_verdict(defaults, row):
    vehicle, change = dms_write(CONTRACT, row.id)
    flipped = flip_field(defaults, row.id)
    before = evaluate(CONTRACT, defaults, "dms", vehicle, change)
    after = evaluate(CONTRACT, flipped, "dms", vehicle, change)
    refused = after if row.default else before
    assert (before == []) == row.default and (after == []) != row.default
    assert refusals(refused) == [("FIELD_NOT_MODIFIABLE", "R6", row.id)]


def test_a_dms_write_touching_forbidden_fields_names_every_one_of_them(defaults):
    vehicle = base_vehicle(CONTRACT)
    change = {row.id: sample_value(CONTRACT, row.id, vehicle[row.id], vehicle)
              for row in FIELD_ROWS if row.id != "status"}
    if CONTRACT.fixed_vat_recoverable(change["origin"]) not in (None, change["vat_recoverable"]):
        del change["vat_recoverable"]  # a regime the new origin refuses is rule R9, not this test's
    forbidden = [row.id for row in FIELD_ROWS if row.id in change and not row.default]
    violations = evaluate(CONTRACT, defaults, "dms", vehicle, change)
    assert sorted(v.field for v in violations) == sorted(forbidden)
    assert {(v.code, v.rule) for v in violations} == {("FIELD_NOT_MODIFIABLE", "R6")}


def test_rewriting_a_field_with_its_current_value_is_not_a_write(defaults):
    vehicle = base_vehicle(CONTRACT)
    locked = [row.id for row in FIELD_ROWS if not row.default]
    assert evaluate(CONTRACT, defaults, "dms", vehicle, {name: vehicle[name] for name in locked}) == []


# --- uc_car_management_activated: the DMS becomes master (inferred) -------------
def locked_master(defaults: ApiVoSettings, master: bool) -> ApiVoSettings:
    """Every field row NON, the master setting as given."""
    return defaults.merge({"settings": {MASTER_SETTING: master},
                           "fields": {row.id: {"dms_modifiable": False} for row in FIELD_ROWS}})


@pytest.mark.parametrize("field", ["status", *writable_fields(CONTRACT)])
def test_a_master_dms_may_write_every_field_openflex_does_not_compute(defaults, field):
    vehicle, change = dms_write(CONTRACT, field)
    assert evaluate(CONTRACT, locked_master(defaults, True), "dms", vehicle, change) == []
    refused = evaluate(CONTRACT, locked_master(defaults, False), "dms", vehicle, change)
    assert refusals(refused) == [("FIELD_NOT_MODIFIABLE", "R6", field)]


@pytest.mark.parametrize("field", READ_ONLY)
@pytest.mark.parametrize("master", [False, True], ids=["openflex-master", "dms-master"])
def test_nobody_writes_a_field_openflex_computes(defaults, field, master):
    settings = defaults.merge({"settings": {MASTER_SETTING: master}})
    vehicle = base_vehicle(CONTRACT)
    for actor in CONTRACT.actors:
        violations = evaluate(CONTRACT, settings, actor, vehicle, {field: "autre valeur"})
        assert refusals(violations) == [("FIELD_NOT_MODIFIABLE", "R2", field)], actor


# --- uc_price_editable: sale prices ≤ 1 (rule R7) ----------------------------------
@pytest.mark.parametrize("field", CONTRACT.vehicle.price_fields)
@pytest.mark.parametrize("price", [1, 0.99, 0])
def test_a_price_at_most_one_is_refused_iff_uc_price_editable_is_off(defaults, field, price):
    allowed = defaults.merge({"fields": {field: {"dms_modifiable": True}}, "settings": {PRICE_SETTING: True}})
    refused = allowed.merge({"settings": {PRICE_SETTING: False}})
    vehicle = base_vehicle(CONTRACT)
    assert evaluate(CONTRACT, allowed, "dms", vehicle, {field: price}) == []
    violations = evaluate(CONTRACT, refused, "dms", vehicle, {field: price})
    assert refusals(violations) == [("PRICE_NOT_ALLOWED", "R7", field)]
    assert violations[0].row == PRICE_SETTING


@pytest.mark.parametrize("field", CONTRACT.vehicle.price_fields)
def test_a_price_above_one_is_accepted_without_uc_price_editable(defaults, field):
    settings = defaults.merge({"fields": {field: {"dms_modifiable": True}},
                               "settings": {PRICE_SETTING: False}})
    assert evaluate(CONTRACT, settings, "dms", base_vehicle(CONTRACT), {field: 1.01}) == []


# --- what OpenFlex users may write (rule R8: data entered in ICAR) ------------------
@pytest.mark.parametrize("actor", OPENFLEX_ACTORS)
@pytest.mark.parametrize("row", [row for row in FIELD_ROWS if row.id != "status"], ids=lambda row: row.id)
def test_openflex_actors_write_every_field_not_entered_in_icar(defaults, actor, row):
    vehicle = base_vehicle(CONTRACT)
    change = {row.id: sample_value(CONTRACT, row.id, vehicle[row.id], vehicle)}
    violations = evaluate(CONTRACT, defaults, actor, vehicle, change)
    if row.entered_in == "ICAR":
        assert refusals(violations) == [("FIELD_NOT_MODIFIABLE", "R8", row.id)]
    else:
        assert violations == []


def test_an_unknown_field_is_a_validation_error(defaults):
    violations = evaluate(CONTRACT, defaults, "openflex_user", base_vehicle(CONTRACT), {"colour": "rouge"})
    assert refusals(violations) == [("VALIDATION_ERROR", None, "colour")]


def test_a_date_mec_after_the_registration_certificate_is_refused(defaults):
    constraint = CONTRACT.vehicle.constraints[0]
    vehicle = base_vehicle(CONTRACT)
    later = sample_value(CONTRACT, constraint.other, vehicle[constraint.other], vehicle)
    change = {constraint.field: "2030-01-01", constraint.other: later}
    violations = evaluate(CONTRACT, defaults, "openflex_user", vehicle, change)
    assert refusals(violations) == [("VALIDATION_ERROR", None, constraint.field)]
