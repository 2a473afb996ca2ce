"""Both fakes in this process, on free loopback ports: the default target of a replay.

OpenFlex first, then ICAR with its connector pointed at that OpenFlex. Each gets a
fresh temporary SQLite store (a fresh world), and the profile, when given, is the
parameterization OpenFlex serves.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from icarflex.mocks.common.dashboard import introduce
from icarflex.mocks.common.server import LiveServer


@dataclass(frozen=True)
class LocalFakes:
    openflex: LiveServer
    icar: LiveServer

    @property
    def openflex_url(self) -> str:
        return self.openflex.url

    @property
    def icar_url(self) -> str:
        return self.icar.url


@contextmanager
def local_fakes(profile: str | None = None, openflex_config: Mapping[str, Any] | None = None,
                icar_config: Mapping[str, Any] | None = None, ports: tuple[int, int] = (0, 0)
                ) -> Iterator[LocalFakes]:
    """Start both fakes (OpenFlex serving `profile`) on `ports` (0: a free one), yield them, stop them."""
    from icarflex.mocks.icar.app import create_app as create_icar
    from icarflex.mocks.openflex.app import create_app as create_openflex

    openflex = LiveServer(create_openflex({"PROFILE": profile, **(openflex_config or {})}),
                          port=ports[0]).start()
    try:
        icar = LiveServer(create_icar({"OPENFLEX_URL": openflex.url, **(icar_config or {})}),
                          port=ports[1]).start()
        introduce(openflex, icar)
        try:
            yield LocalFakes(openflex, icar)
        finally:
            icar.stop()
    finally:
        openflex.stop()
