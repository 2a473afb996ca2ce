"""Fixtures every test folder may use: a throw-away PostgreSQL cluster (one per test process,
started on first use) and `store_url`, a fresh store on each backend (SQLite file, PostgreSQL
database), for the tests parametrized over both."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pgcluster import Cluster, binaries

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    if binaries() is None:
        pytest.skip("PostgreSQL is not installed (Debian package `postgresql`; .ci/run installs it)")
    cluster = Cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> str:
    """A fresh, empty database of the throw-away cluster."""
    return postgres_cluster.create_database()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store on each backend: a SQLite file path, or a PostgreSQL database URL."""
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite3")
    return request.getfixturevalue("postgres_url")
