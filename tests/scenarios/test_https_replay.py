"""The remote path: the workflows replayed over https, as an integrator's sandbox is reached.

Both fakes run under their usual server (waitress, plain http) behind a TLS-terminating
loopback proxy (as a load balancer would be), with a certificate from a throw-away CA
(trustme). The runner speaks https to both, and the ICAR connector speaks https to
OpenFlex: every call of the replay crosses TLS, through the one transport
(icarflex.mocks.common.transport), with the certificate checked.
"""
from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from icarflex.contracts import load_contract
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.icar.app import create_app as create_icar
from icarflex.mocks.openflex.app import create_app as create_openflex
from icarflex.scenarios.clients import Dms, TargetUnreachable
from icarflex.scenarios.runner import Runner, Targets


class TlsProxy:
    """TLS terminated on 127.0.0.1, the bytes passed on to a plain http server on loopback."""

    def __init__(self, backend_port: int, context: ssl.SSLContext) -> None:
        self.backend_port, self.context = backend_port, context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()
            return
        with tls, socket.create_connection(("127.0.0.1", self.backend_port)) as upstream:
            self._pipe(tls, upstream)

    def _pipe(self, tls: ssl.SSLSocket, upstream: socket.socket) -> None:
        """One thread per connection, so the TLS socket is never read and written at once."""
        with contextlib.suppress(OSError):
            while not self._stop.is_set():
                ready = [tls] if tls.pending() else select.select([tls, upstream], [], [], 0.5)[0]
                for source, sink in ((tls, upstream), (upstream, tls)):
                    if source in ready:
                        data = source.recv(65536)
                        if not data:
                            return
                        sink.sendall(data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.listener.close()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def https_fakes(ca: trustme.CA, ca_file: str) -> Iterator[tuple[TlsProxy, TlsProxy]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with LiveServer(create_openflex({})) as openflex:
        openflex_tls = TlsProxy(openflex.port, context)
        icar_app = create_icar({"OPENFLEX_URL": openflex_tls.url, "OPENFLEX_CA_BUNDLE": ca_file})
        with LiveServer(icar_app) as icar:
            icar_tls = TlsProxy(icar.port, context)
            yield openflex_tls, icar_tls
            icar_tls.close()
        openflex_tls.close()


def test_every_workflow_replays_green_over_https(https_fakes: tuple[TlsProxy, TlsProxy], ca_file: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    openflex_tls, icar_tls = https_fakes
    monkeypatch.setenv("ICARFLEX_CA_BUNDLE", ca_file)
    workflows = [w.id for w in load_contract().workflows]
    with Runner(Targets(openflex_tls.url, icar_tls.url), negative=False) as runner:
        result = runner.run(workflows)
    assert result.ok, [s.id for s in result.scenarios if not s.ok]
    urls = _sync_urls(icar_tls.url)  # the connector's calls went over TLS too
    assert urls and all(url.startswith(openflex_tls.url + "/api/v1/") for url in urls)
    # Keep-alive held over TLS: far fewer connections than calls.
    assert openflex_tls.connections < len(urls) / 4


def _sync_urls(icar_url: str) -> list[str]:
    reply = Dms(icar_url, "demo-icar-key").request("GET", "/api/v1/sync-log", params={"limit": 1000},
                                                   record=False)
    assert reply.status == 200, reply.body
    return [entry["url"] for entry in reply.body["items"]]


def test_a_certificate_from_an_unknown_ca_is_refused(https_fakes: tuple[TlsProxy, TlsProxy],
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("ICARFLEX_CA_BUNDLE", str(other))
    with pytest.raises(TargetUnreachable, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        Dms(https_fakes[1].url, "demo-icar-key").records()
