"""Fixtures of the scenario tests: both fakes in-process and one full replay shared by the tests."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from icarflex.contracts import load_contract
from icarflex.scenarios.fakes import LocalFakes, local_fakes
from icarflex.scenarios.results import RunResult
from icarflex.scenarios.runner import Runner, Targets


@pytest.fixture(scope="session")
def fakes() -> Iterator[LocalFakes]:
    with local_fakes() as started:
        yield started


@pytest.fixture(scope="session")
def full_run(fakes: LocalFakes) -> RunResult:
    """Every workflow of the contract and every negative twin, replayed once against the fakes."""
    with Runner(Targets(fakes.openflex_url, fakes.icar_url)) as runner:
        return runner.run([w.id for w in load_contract().workflows])
