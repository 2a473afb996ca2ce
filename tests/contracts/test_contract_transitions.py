"""The lifeline (rules R1, R3, R4, R5): every transition by every actor, generated from lifeline.yaml.

A transition is allowed iff the actor is one of its actors (or a gated actor whose
capability is on) and its preconditions hold; a move off a destination's lifeline is
TRANSITION_NOT_ALLOWED; each missing precondition is named with its code, rule and field.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from contract_samples import base_vehicle, creation_body, precondition_state
from icarflex.contracts import ApiVoSettings, evaluate, load_contract
from icarflex.contracts.engine import precondition_holds
from icarflex.contracts.models import Transition

CONTRACT = load_contract()
TRANSITIONS = CONTRACT.lifeline.transitions


def transition_id(t: Transition) -> str:
    return f"{t.from_ or 'creation'}->{t.to}"


def attempt(settings: ApiVoSettings, actor: str, t: Transition, **state: Any) -> list[Any]:
    """`actor` makes transition `t` on a vehicle meeting every precondition (then `state`)."""
    if t.from_ is None:
        return evaluate(CONTRACT, settings, actor, None, creation_body(CONTRACT))
    destination = (t.destinations or tuple(CONTRACT.lifeline.lifelines))[0]
    vehicle = base_vehicle(CONTRACT, t.from_, destination, **state)
    return evaluate(CONTRACT, settings, actor, vehicle, {"status": t.to})


def actor_cases() -> Iterator[Any]:
    for t in TRANSITIONS:
        for actor in CONTRACT.actors:
            capability = t.gate(actor)
            for on in (False, True) if capability else (None,):
                suffix = f"-{capability}-{'on' if on else 'off'}" if capability else ""
                yield pytest.param(t, actor, on, id=f"{transition_id(t)}-by-{actor}{suffix}")


@pytest.mark.parametrize("t, actor, capability_on", list(actor_cases()))
def test_a_transition_is_allowed_iff_the_actor_may_make_it(defaults, t, actor, capability_on):
    capability = t.gate(actor)
    settings = defaults.merge({"capabilities": {capability: capability_on}}) if capability else defaults
    violations = attempt(settings, actor, t)
    allowed = actor in t.actors or (capability_on if actor in t.gated_actors else capability_on is False)
    assert t.may_make(actor, settings) is allowed
    if allowed:
        assert violations == []
        return
    creation_code = "VEHICLE_CREATION_NOT_ALLOWED" if capability else "FORBIDDEN"
    expected = (creation_code, None) if t.from_ is None else ("TRANSITION_NOT_ALLOWED", "status")
    assert [(v.code, v.field) for v in violations] == [expected]
    assert violations[0].rule in t.rules
    assert violations[0].row == capability


def off_lifeline_cases() -> Iterator[Any]:
    for destination in CONTRACT.lifeline.lifelines:
        for source in CONTRACT.statuses:
            for target in CONTRACT.statuses:
                if source != target and CONTRACT.transition(source, target, destination) is None:
                    yield pytest.param(destination, source, target, id=f"{destination}-{source}->{target}")


@pytest.mark.parametrize("destination, source, target", list(off_lifeline_cases()))
def test_a_move_off_the_lifeline_is_refused_for_every_actor(defaults, destination, source, target):
    everything_on = defaults.merge({"capabilities": {row.id: True for row in CONTRACT.rows_of("capability")}})
    vehicle = base_vehicle(CONTRACT, source, destination)
    for actor in CONTRACT.actors:
        violations = evaluate(CONTRACT, everything_on, actor, vehicle, {"status": target})
        assert [(v.code, v.rule, v.field) for v in violations] == [("TRANSITION_NOT_ALLOWED", "R4", "status")]


def precondition_cases() -> Iterator[Any]:
    for t in TRANSITIONS:
        for name in t.requires:
            yield pytest.param(t, name, id=f"{transition_id(t)}-without-{name}")


@pytest.mark.parametrize("t, precondition", list(precondition_cases()))
def test_a_missing_precondition_is_named_with_its_code_rule_and_field(defaults, t, precondition):
    actor = t.makers[0]
    settings = defaults.merge({"capabilities": {c: True for c in t.gated_actors.values()}})
    violations = attempt(settings, actor, t, **precondition_state(CONTRACT, precondition, met=False))
    pre = CONTRACT.lifeline.preconditions[precondition]
    assert [(v.code, v.rule, v.field) for v in violations] == [(pre.code, pre.rule, pre.field)]


@pytest.mark.parametrize("name", list(CONTRACT.lifeline.preconditions))
def test_every_precondition_has_test_data_that_meets_and_breaks_it(name):
    vehicle = base_vehicle(CONTRACT)
    assert precondition_holds(CONTRACT, name, {**vehicle, **precondition_state(CONTRACT, name, met=True)})
    broken = {**vehicle, **precondition_state(CONTRACT, name, met=False)}
    assert not precondition_holds(CONTRACT, name, broken)


@pytest.mark.parametrize("row", CONTRACT.rows_of("capability"), ids=lambda row: row.id)
def test_flipping_a_capability_flips_the_verdict_of_the_move_it_gates(defaults, row):
    gated = [(t, actor) for t in TRANSITIONS for actor in t.makers if t.gate(actor) == row.id]
    assert gated, f"capability {row.id} gates no transition"
    flipped = defaults.merge({"capabilities": {row.id: not row.default}})
    for t, actor in gated:
        on = actor in t.gated_actors  # allowed while the row is OUI (else while it is NON)
        before, after = attempt(defaults, actor, t), attempt(flipped, actor, t)
        assert (before == []) == (row.default is on) and (after == []) != (row.default is on)
        assert [v.row for v in (after if row.default is on else before)] == [row.id]


def test_with_exit_from_delivery_off_the_user_exits_in_openflex_and_the_dms_is_refused_naming_the_row(
        defaults):
    """Our reading of « Sortie des véhicules en statut livraison » = NON (docs/decisions.md)."""
    off = defaults.merge({"capabilities": {"exit_from_delivery": False}})
    delivered = base_vehicle(CONTRACT, "LIVRAISON", "MARCHAND")
    assert evaluate(CONTRACT, off, "openflex_user", delivered, {"status": "SORTIE"}) == []
    refused = evaluate(CONTRACT, off, "dms", delivered, {"status": "SORTIE"})
    assert [(v.code, v.field, v.row) for v in refused] == [("TRANSITION_NOT_ALLOWED", "status",
                                                            "exit_from_delivery")]
    assert "Sortie des véhicules en statut livraison" in refused[0].message
    on = evaluate(CONTRACT, defaults, "openflex_user", delivered, {"status": "SORTIE"})
    assert [(v.code, v.row) for v in on] == [("TRANSITION_NOT_ALLOWED", "exit_from_delivery")]


def test_the_physical_entry_may_bring_its_police_number_in_the_same_write(defaults):
    vehicle = base_vehicle(CONTRACT, "PRE_RENTREE", police_number=None)
    change = {"status": "ENTREE_PHYSIQUE", "police_number": "PARIS16-2025-000042"}
    assert evaluate(CONTRACT, defaults, "dms", vehicle, change) == []


def test_a_vehicle_is_created_in_the_entry_status_only(defaults):
    body = creation_body(CONTRACT, status="ENTREE_PHYSIQUE")
    violations = evaluate(CONTRACT, defaults, "openflex_user", None, body)
    assert [(v.code, v.rule, v.field) for v in violations] == [("TRANSITION_NOT_ALLOWED", "R1", "status")]


@pytest.mark.parametrize("field", CONTRACT.vehicle.required_at_creation)
def test_a_creation_without_a_required_field_names_it(defaults, field):
    body = creation_body(CONTRACT)
    del body[field]
    violations = evaluate(CONTRACT, defaults, "mobile_app", None, body)
    assert [(v.code, v.rule, v.field) for v in violations] == [("VALIDATION_ERROR", "R1", field)]


def test_a_move_from_a_vehicle_without_status_is_not_a_creation(defaults):
    vehicle = base_vehicle(CONTRACT)
    del vehicle["status"]
    violations = evaluate(CONTRACT, defaults, "openflex_user", vehicle, {"status": CONTRACT.entry_status})
    assert [(v.code, v.field) for v in violations] == [("TRANSITION_NOT_ALLOWED", "status")]
