"""The proxy served by waitress, as the fakes are, with the target's answer head kept verbatim.

waitress adds `Server` (or, when the app sent one, `Via`) to every answer, as a proxy
should by RFC 9110; this proxy promises to add no header at all, so the lines it adds
under the proxy's own marker are taken out again. `build_proxy` wires every part.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from icarflex.contracts import load_contract
from icarflex.mocks.common.server import LiveServer
from icarflex.scenarios.checker import Finding
from icarflex.scenarios.proxy.app import ProxyApp
from icarflex.scenarios.proxy.journal import JsonLinesJournal
from icarflex.scenarios.proxy.judge import Judge
from icarflex.scenarios.proxy.keys import load_keys, load_profile_and_keys
from icarflex.scenarios.proxy.mapping import load_mapping
from icarflex.scenarios.proxy.upstream import Upstream
from waitress.channel import HTTPChannel
from waitress.task import WSGITask

MARKER = "icarflex-proxy"   # waitress's ident here: what it adds is found by this value
OUTBUF_LIMIT = 2 * 1024 * 1024  # answer bytes waiting for a slow client before the relay pauses


class _VerbatimTask(WSGITask):
    def build_response_header(self) -> bytes:
        head = super().build_response_header()
        added = (f"\r\nVia: {MARKER}".encode(), f"\r\nServer: {MARKER}".encode())
        for line in added:
            head = head.replace(line, b"")
        return head


class _VerbatimChannel(HTTPChannel):
    task_class = _VerbatimTask


@dataclass(frozen=True)
class ProxyOptions:
    target: str
    profile: str | None = None
    mapping: str | None = None
    keys: str | None = None
    journal: str = "icarflex-proxy.jsonl"
    enforce: bool = False
    cacert: str | None = None
    timeout: float = 30.0
    system: str = "openflex"
    correlation_header: str | None = None
    threads: int = 8


class ProxyServer(LiveServer):
    """The proxy on a loopback port (port 0: a free one), in a background thread."""

    def __init__(self, options: ProxyOptions, host: str = "127.0.0.1", port: int = 0,
                 show: Callable[[Mapping[str, Any], list[Finding]], None] | None = None) -> None:
        contract = load_contract()
        expected, profile_keys = load_profile_and_keys(options.profile, contract)
        keys = load_keys(options.keys, profile_keys, options.system, contract)
        mapping = load_mapping(options.mapping)
        self.options = options
        self.upstream = Upstream(options.target, options.timeout, options.cacert, options.threads * 2)
        self.journal = JsonLinesJournal(options.journal)
        app = ProxyApp(self.upstream, Judge(contract, expected), self.journal, keys=keys, mapping=mapping,
                       enforce=options.enforce, system=options.system,
                       correlation_header=options.correlation_header, show=show)
        super().__init__(app, host, port, options.threads, ident=MARKER, clear_untrusted_proxy_headers=False,
                         outbuf_high_watermark=OUTBUF_LIMIT)
        self._server.channel_class = _VerbatimChannel  # type: ignore[union-attr]

    def stop(self) -> None:
        super().stop()
        self.upstream.close()
        self.journal.close()
