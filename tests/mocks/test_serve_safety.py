"""`icarflex serve` is safe on a shared laptop: its store files are its user's alone, and it
answers only requests naming loopback (or a name given with `--allow-host`), so a web page
cannot reach it through DNS rebinding (issue 15)."""
from __future__ import annotations

import stat

import requests
from test_serve import call, serving


def mode(path) -> int:  # noqa: ANN001
    return stat.S_IMODE(path.stat().st_mode)


def test_store_files_are_created_owner_only(tmp_path):
    db = tmp_path / "new-folder" / "icarflex.sqlite3"
    with serving(db) as urls:
        refs = call("GET", f"{urls['OpenFlex']}/api/v1/reference/vehicles?limit=1", "demo-openflex-key").json()
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
