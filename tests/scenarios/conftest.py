"""Fixtures of the scenario tests: both fakes in-process and one full replay shared by the tests."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from icarflex.contracts import load_contract, load_profile
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.icar.app import create_app as create_icar
from icarflex.mocks.openflex.app import create_app as create_openflex
from icarflex.profiles import path_of
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


@pytest.fixture(scope="session")
def run_under(full_run: RunResult) -> Callable[[str], RunResult]:
    """The full replay under a shipped profile, against fakes serving it (once per profile; the
    guide's defaults are `full_run`)."""
    runs: dict[str, RunResult] = {"guide-defaults": full_run}

    def run(profile: str) -> RunResult:
        if profile not in runs:
            path = path_of(profile)
            with local_fakes(path) as fakes, Runner(Targets(fakes.openflex_url, fakes.icar_url),
                                                    expected=load_profile(path)) as runner:
                runs[profile] = runner.run([w.id for w in load_contract().workflows])
        return runs[profile]
    return run


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, str]]:  # noqa: ANN001
    """Both fakes on one SQLite file, as `icarflex serve --db` runs them: their two URLs."""
    db = str(tmp_path / "served.sqlite3")
    with LiveServer(create_openflex({"DB": db}), threads=8) as openflex, \
            LiveServer(create_icar({"DB": db, "OPENFLEX_URL": openflex.url}), threads=8) as icar:
        yield openflex.url, icar.url
