"""The contract suite against a system you name (STYLE §13), the fakes by default.

Set ICARFLEX_TARGET_OPENFLEX and ICARFLEX_TARGET_ICAR (base URLs; optionally
ICARFLEX_TARGET_ADMIN_KEY) to run these against a real sandbox or a separately
started `icarflex serve`; without them they run against both fakes in-process.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from icarflex.contracts import load_contract
from icarflex.scenarios.clients import DEMO_KEYS
from icarflex.scenarios.fakes import local_fakes
from icarflex.scenarios.runner import Runner, Targets

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def targets() -> Iterator[Targets]:
    openflex, icar = os.environ.get("ICARFLEX_TARGET_OPENFLEX"), os.environ.get("ICARFLEX_TARGET_ICAR")
    if openflex and icar:
        keys = {**DEMO_KEYS, "admin": os.environ.get("ICARFLEX_TARGET_ADMIN_KEY", DEMO_KEYS["admin"])}
        yield Targets(openflex, icar, keys)
        return
    with local_fakes() as fakes:
        yield Targets(fakes.openflex_url, fakes.icar_url)


@pytest.mark.parametrize("workflow", [w.id for w in load_contract().workflows])
def test_workflow_holds_on_the_target(targets: Targets, workflow: str) -> None:
    with Runner(targets, negative=True) as runner:
        result = runner.run([workflow])
    failures = {s.id: s.error or [f"{step.step}: {c.name} {c.detail}"
                                  for step in s.steps for c in step.failures()]
                for s in result.scenarios if not s.ok}
    assert result.ok, failures or [c for c in result.final_checks if not c.ok]
    assert not result.drift, [row.describe() for row in result.drift]
    assert {s.kind for s in result.scenarios} == {"workflow", "twin"}
