"""Actors whose writes are limited to some statuses (lifeline.yaml `writes_in`): the mobile app
estimates a trade-in in Pré-Rentrée and writes nothing of a vehicle once it is in."""
from __future__ import annotations

import pytest
from icarflex.contracts import ApiVoSettings, Contract, evaluate, load_contract

from tests.contracts.contract_samples import base_vehicle, sample_value

CONTRACT = load_contract()
LIMITED = [(actor.id, status) for actor in CONTRACT.lifeline.actors if actor.writes_in is not None
           for status in CONTRACT.statuses]


def _own_field(contract: Contract) -> str:
    """A data field entered in OpenFlex (no other rule stands in the way of its writer)."""
    return next(row.id for row in contract.rows_of("field") if row.entered_in == "OPENFLEX")


def test_some_actor_is_limited() -> None:
    assert LIMITED, "no actor has writes_in: this file tests nothing"


@pytest.mark.parametrize(("actor", "status"), LIMITED, ids=[f"{a}-{s}" for a, s in LIMITED])
def test_a_limited_actor_writes_only_in_its_statuses(contract: Contract, defaults: ApiVoSettings,
                                                     actor: str, status: str) -> None:
    vehicle = base_vehicle(contract, status=status)
    field = _own_field(contract)
    change = {field: sample_value(contract, field, current=vehicle[field], vehicle=vehicle)}
    verdict = evaluate(contract, defaults, actor, vehicle, change)
    spec = contract.actor[actor]
    if status in (spec.writes_in or ()):
        assert verdict == []
    else:
        assert [(v.code, v.rule) for v in verdict] == [("FORBIDDEN", spec.writes_in_rule)]
