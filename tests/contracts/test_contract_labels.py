"""Every step, action, actor and destination a dealer's page prints has its French label in
contracts/data/labels.yaml (a page never falls back to a machine id)."""
from __future__ import annotations

import pytest
from icarflex.contracts import load_contract
from icarflex.scenarios.actions import ACTIONS

CONTRACT = load_contract()


@pytest.mark.parametrize("step", sorted({s.id for w in CONTRACT.workflows for s in w.steps}))
def test_every_workflow_step_has_a_french_label(step: str) -> None:
    assert CONTRACT.labels.steps.get(step), f"labels.yaml: steps.{step} missing"


@pytest.mark.parametrize("actor", CONTRACT.actors)
def test_every_actor_has_a_short_french_label(actor: str) -> None:
    assert CONTRACT.labels.actors.get(actor), f"labels.yaml: actors.{actor} missing"


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_has_a_french_label(action: str) -> None:
    assert CONTRACT.labels.actions.get(action), f"labels.yaml: actions.{action} missing"


@pytest.mark.parametrize("destination", CONTRACT.enum_values("destination"))
def test_every_destination_has_a_french_label(destination: str) -> None:
    assert CONTRACT.labels.destinations.get(destination), f"labels.yaml: destinations.{destination} missing"


@pytest.mark.parametrize("kind", CONTRACT.vehicle.reservations.kinds)
def test_every_reservation_kind_has_a_french_label(kind: str) -> None:
    assert CONTRACT.labels.reservations.get(kind), f"labels.yaml: reservations.{kind} missing"
