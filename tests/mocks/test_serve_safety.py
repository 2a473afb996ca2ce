"""`icarflex serve` is safe on a shared laptop: its store files are its user's alone, it
answers only requests naming loopback (or a name given with `--allow-host`), so a web page
cannot reach it through DNS rebinding, and no crowd of idle or slow clients starves the
others (issue 15)."""
from __future__ import annotations

import resource
import socket
import stat
import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
import requests
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.openflex.app import create_app
from test_serve import call, serving

IDLE, HALF_SENT = 1_000, 200


def mode(path) -> int:  # noqa: ANN001
    return stat.S_IMODE(path.stat().st_mode)


def test_store_files_are_created_owner_only(tmp_path):
    db = tmp_path / "new-folder" / "icarflex.sqlite3"
    with serving(db) as urls:
        refs = call("GET", f"{urls['OpenFlex']}/api/v1/reference/vehicles?limit=1",
                    "demo-openflex-key").json()
        created = call("POST", f"{urls['OpenFlex']}/api/v1/vehicles", "demo-openflex-key", {
            "vin": refs["items"][0]["vin"], "destination": "CASSE", "origin": "PARTICULIER",
            "purchase_source": "REPRISE"})
        assert created.status_code == 201, created.text
        files = sorted(db.parent.iterdir())
        assert {f.name for f in files} >= {db.name, db.name + "-wal", db.name + "-shm"}
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    assert mode(db.parent) == 0o700


def test_only_hosts_naming_loopback_or_allowed_are_answered(tmp_path):
    with serving(tmp_path / "db.sqlite3", extra=["--allow-host", "fake.lan"]) as urls:
        for url in urls.values():
            port = url.rsplit(":", 1)[1]
            for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "LOCALHOST",
                         f"fake.lan:{port}", "fake.lan"):
                reply = requests.get(f"{url}/__admin/health", headers={"Host": host}, timeout=5)
                assert reply.status_code == 200, (host, reply.text)
            for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.nip.io", "localhost.evil",
                         "fake.lan.evil", "[::1", "a:b:c"):
                reply = requests.get(f"{url}/api/v1/vehicles", headers={
                    "Host": host, "Authorization": "Bearer demo-admin-key"}, timeout=5)
                assert reply.status_code == 421, (host, reply.text)
                assert reply.headers["Content-Type"] == "application/problem+json"
                assert (reply.json()["code"], reply.json()["fields"]) == ("MISDIRECTED_REQUEST", ["Host"])


@contextmanager
def crowd(url: str, idle: int, half_sent: int) -> Iterator[list[socket.socket]]:
    """`idle` keep-alive connections (half of them after one answered request) and `half_sent`
    requests stopped mid-headers or mid-body, all held open."""
    host, port = url.removeprefix("http://").split(":")
    with ExitStack() as stack:
        sockets = []
        for i in range(idle + half_sent):
            sock = stack.enter_context(socket.create_connection((host, int(port)), timeout=10))
            sockets.append(sock)
            if i < idle and i % 2 == 0:
                sock.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
                assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            elif i >= idle and i % 2 == 0:
                sock.sendall(b"GET /api/v1/vehicles HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bea")
            elif i >= idle:
                sock.sendall(b"POST /api/v1/opportunities HTTP/1.1\r\nHost: localhost\r\n"
                             b"Content-Type: application/json\r\nContent-Length: 900\r\n\r\n{\"cust")
        yield sockets


def latencies_ms(url: str, count: int = 20) -> list[float]:
    out = []
    for _ in range(count):
        started = time.perf_counter()
        reply = requests.get(url, headers={"Authorization": "Bearer demo-openflex-key"}, timeout=10)
        out.append((time.perf_counter() - started) * 1000)
        assert reply.status_code == 200, reply.text
    return out


@pytest.fixture
def descriptors() -> None:
    """This test's process holds 1,200 client sockets: its descriptor limit raised to allow them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = IDLE + HALF_SENT + 300
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"descriptor limit {hard} < {wanted}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_thousand_idle_and_two_hundred_half_sent_connections_starve_no_one(tmp_path, descriptors,
                                                                              workers: int):
    with serving(tmp_path / "db.sqlite3", extra=["--workers", str(workers)]) as urls:
        openflex = urls["OpenFlex"]
        seeded = call("POST", f"{openflex}/__admin/seed", "demo-admin-key", {"count": 1}).json()
        vehicle = seeded["vehicles"][0]
        with crowd(openflex, IDLE, HALF_SENT):
            requests.get(f"{openflex}/__admin/health", timeout=10)  # once waitress took the crowd in
            health = latencies_ms(f"{openflex}/__admin/health")
            read = latencies_ms(f"{openflex}/api/v1/vehicles/{vehicle}")
        # The bar is 100 ms; on a loaded CI machine one call may be late, the median not.
        assert statistics.median(health) < 100 and statistics.median(read) < 100, (health, read)
        assert max(health + read) < 2_000, (health, read)


def test_silent_connections_are_closed_after_the_channel_timeout(tmp_path):
    app = create_app({"DB": str(tmp_path / "db.sqlite3")})
    with LiveServer(app, channel_timeout=1, cleanup_interval=1) as server, \
            crowd(server.url, 2, 2) as sockets:
        deadline = time.monotonic() + 15
        for sock in sockets:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:  # what was answered, then the end: closed by the server (a timeout raises)
                while sock.recv(65536):
                    pass
            except ConnectionResetError:
                pass
