"""Fixtures of the OpenFlex fake's tests: a fresh app on a temporary SQLite file, served
on loopback by waitress (`live`), and `world`: a caller per actor over real HTTP.
`client_world` is the same over Flask's test client, for the large matrices."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from icarflex.contracts import Contract, load_contract
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.openflex.app import create_app
from openflex_support import World, client_transport, http_transport


@pytest.fixture(scope="session")
def contract() -> Contract:
    return load_contract()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "openflex.sqlite3"


@pytest.fixture
def app(db_path: Path) -> Flask:
    """A fresh world; TESTING so a server error raises instead of hiding as a 500 problem."""
    return create_app({"DB": str(db_path), "TESTING": True, "SEED": 2025})


@pytest.fixture
def live(app: Flask) -> Iterator[LiveServer]:
    with LiveServer(app, threads=4) as server:
        yield server


@pytest.fixture
def world(live: LiveServer) -> Iterator[World]:
    with requests.Session() as session:
        yield World(http_transport(live.url, session))


@pytest.fixture
def client_world(app: Flask) -> World:
    return World(client_transport(app.test_client()))
