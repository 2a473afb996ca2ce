"""Fixtures of the proxy tests: the OpenFlex fake and the proxy in front of it, on loopback."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.openflex.app import create_app as create_openflex
from icarflex.scenarios.proxy.server import ProxyOptions, ProxyServer


@pytest.fixture
def servers() -> Iterator[ExitStack]:
    """Servers stopped at the end of the test, last started first."""
    with ExitStack() as stack:
        yield stack


@pytest.fixture
def start_openflex(servers: ExitStack) -> Callable[..., LiveServer]:
    def start(**config: Any) -> LiveServer:
        return servers.enter_context(LiveServer(create_openflex(config)))
    return start


@pytest.fixture
def start_proxy(servers: ExitStack, tmp_path: Path) -> Callable[..., ProxyServer]:
    def start(target: str, **options: Any) -> ProxyServer:
        options.setdefault("journal", str(tmp_path / "proxy.jsonl"))
        show = options.pop("show", None)
        return servers.enter_context(ProxyServer(ProxyOptions(target, **options), show=show))
    return start
