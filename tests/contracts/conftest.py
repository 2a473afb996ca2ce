"""Fixtures of the contract tests: the packaged contract, its default settings, a writable copy."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from icarflex.contracts import ApiVoSettings, Contract, load_contract
from icarflex.contracts.models import DATA_DIR


@pytest.fixture(scope="session")
def contract() -> Contract:
    return load_contract()


@pytest.fixture(scope="session")
def defaults(contract: Contract) -> ApiVoSettings:
    return ApiVoSettings.defaults(contract)


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A copy of contracts/data/ that a test may corrupt."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target
