"""The icarflex pytest plugin (entry point `pytest11`): both fakes inside an integrator's own suite.

Fixture `icarflex_fakes`: both fakes on free loopback ports, started once per session;
each test gets a fresh dealer of its own (`keys`: actor → key), so tests never see each
other's data; `openflex_url`, `icar_url`; `audit()` → the contract's verdict on that
test's traffic (`ok`, `violations`); `set_profile(...)` and `inject_faults(...)`.
`--icarflex-openflex-url` / `--icarflex-icar-url` / `--icarflex-admin-key` point the same
fixture at servers already running (`icarflex serve`, a shared sandbox). Imports of the
fakes wait until a test asks for them, so the plugin costs nothing to suites that do not.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

ADMIN_KEY = "demo-admin-key"


@dataclass(frozen=True)
class Servers:
    openflex_url: str
    icar_url: str
    admin_key: str


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("icarflex", "icarflex: fakes of OpenFlex and ICAR DMS")
    group.addoption("--icarflex-openflex-url", default=os.environ.get("ICARFLEX_TARGET_OPENFLEX"),
                    help="OpenFlex already running (default: the fake, started for the session)")
    group.addoption("--icarflex-icar-url", default=os.environ.get("ICARFLEX_TARGET_ICAR"),
                    help="ICAR already running (default: the fake, started for the session)")
    group.addoption("--icarflex-admin-key", default=os.environ.get("ICARFLEX_TARGET_ADMIN_KEY", ADMIN_KEY),
                    help="admin key of those servers (creates each test's dealer)")
    group.addoption("--icarflex-profile", default=None,
                    help="profile (file or shipped name) the session's fakes serve")


@pytest.fixture(scope="session")
def icarflex_servers(pytestconfig: pytest.Config) -> Iterator[Servers]:
    """Both fakes for the session, or the servers named by the options."""
    openflex = pytestconfig.getoption("icarflex_openflex_url")
    icar = pytestconfig.getoption("icarflex_icar_url")
    admin_key = pytestconfig.getoption("icarflex_admin_key")
    if bool(openflex) != bool(icar):
        raise pytest.UsageError("--icarflex-openflex-url et --icarflex-icar-url vont ensemble")
    if openflex:
        yield Servers(openflex, icar, admin_key)
        return
    from icarflex.profiles import path_of
    from icarflex.scenarios.fakes import local_fakes

    profile = pytestconfig.getoption("icarflex_profile")
    with local_fakes(path_of(profile) if profile else None) as fakes:
        yield Servers(fakes.openflex_url, fakes.icar_url, ADMIN_KEY)


class IcarflexFakes:
    """What a test sees: the URLs, its dealer's keys, the audit of its traffic, profile and faults."""

    def __init__(self, servers: Servers, sandbox: Any) -> None:
        self.openflex_url, self.icar_url = servers.openflex_url, servers.icar_url
        self.sandbox = sandbox
        self.dealer: str = sandbox.dealer
        self.keys: dict[str, str] = dict(sandbox.keys)

    def audit(self) -> Any:
        """`Verdict`: `ok`, `violations` (rule, field, label, message, refused, request)."""
        return self.sandbox.audit()

    def set_profile(self, profile: Any) -> dict[str, Any]:
        """This dealer's parameterization: a mapping (overlay of the guide's defaults), a profile
        file, or a shipped profile's name (`locked-mileage`, …)."""
        return self.sandbox.set_profile(profile)

    def inject_faults(self, system: str = "openflex", **faults: Any) -> dict[str, Any]:
        """Latency or 5xx answers on one fake (`error_rate=1.0, error_status=503, count=1`, …),
        cleared at the end of the test."""
        return self.sandbox.inject_faults(system, **faults)

    def journal(self, system: str = "openflex") -> list[dict[str, Any]]:
        return self.sandbox.journal(system)


@pytest.fixture
def icarflex_fakes(icarflex_servers: Servers) -> Iterator[IcarflexFakes]:
    """A fresh dealer of this test's own on both fakes (see the module's docstring)."""
    from icarflex.scenarios.sandbox import Sandbox, SandboxUnavailable

    try:
        sandbox = Sandbox.create(icarflex_servers.openflex_url, icarflex_servers.icar_url,
                                 icarflex_servers.admin_key)
    except SandboxUnavailable as exc:
        pytest.fail(f"icarflex : {exc}", pytrace=False)
    try:
        yield IcarflexFakes(icarflex_servers, sandbox)
    finally:
        sandbox.close()
