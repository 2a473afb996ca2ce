"""Helpers of the proxy tests: journals read over HTTP and from the proxy's file."""
from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from icarflex.scenarios.checker import read_journal
from icarflex.scenarios.proxy.server import ProxyServer
from werkzeug.serving import make_server

ADMIN = {"Authorization": "Bearer demo-admin-key"}
NEW_VEHICLE = {"vin": "VF1RFB00X12345678", "registration": "AB-123-CD", "destination": "PARTICULIER",
               "purchase_source": "ACHAT_DIRECT", "origin": "PARTICULIER"}


def key(actor: str) -> dict[str, str]:
    return {"Authorization": f"Bearer demo-{actor}-key"}


def proxy_journal(proxy: ProxyServer) -> list[dict[str, Any]]:
    with open(proxy.options.journal, encoding="utf-8") as handle:
        return read_journal(handle)


def target_journal(url: str) -> list[dict[str, Any]]:
    """The target's own journal (`/__admin/journal`), every entry."""
    reply = requests.get(f"{url}/__admin/journal", params={"limit": 100_000}, headers=ADMIN, timeout=30)
    reply.raise_for_status()
    return reply.json()["items"]


@contextmanager
def tls_server(app: Any, cert: Any) -> Iterator[str]:
    """`app` over https on a free loopback port, with `cert` (a trustme leaf certificate)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, name="tls-target", daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
