"""`icarflex serve` as a user runs it: a subprocess on free loopback ports, one SQLite file.

Both fakes answer their health endpoint, the ICAR connector reaches the OpenFlex fake,
and a restart on the same --db keeps both systems' data. SIGINT (Ctrl-C) stops it cleanly.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

URL = re.compile(r"(OpenFlex|ICAR) fake\s*:\s*(http://127\.0\.0\.1:\d+)")


@contextmanager
def serving(db: Path, *, sigint_ignored: bool = False, extra: Sequence[str] = ()) -> Iterator[dict[str, str]]:
    """Start `icarflex serve --openflex-port 0 --icar-port 0` (and `extra` flags); yield the URLs it
    announces. `sigint_ignored`: started as a background job of a script is (SIGINT ignored)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None
    proc = subprocess.Popen([sys.executable, "-m", "icarflex.scenarios.cli", "serve", "--openflex-port", "0",
                             "--icar-port", "0", "--db", str(db), "--threads", "4", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            preexec_fn=ignore)  # noqa: PLW1509 - a signal disposition, nothing threaded
    urls: dict[str, str] = {}
    ready = threading.Event()

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            for system, url in URL.findall(line):
                urls[system] = url
            if len(urls) == 2:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(20), f"serve did not announce its URLs (exit code {proc.poll()})"
        yield urls
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            assert proc.wait(10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


def call(method: str, url: str, key: str, json: dict | None = None) -> requests.Response:
    return requests.request(method, url, json=json, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def test_serve_answers_both_health_endpoints_and_keeps_data_across_a_restart(tmp_path):
    db = tmp_path / "icarflex.sqlite3"
    with serving(db) as urls:
        openflex, icar = urls["OpenFlex"], urls["ICAR"]
        for system, url in urls.items():
            health = requests.get(f"{url}/__admin/health", timeout=5)
            assert (health.status_code, health.json()["system"]) == (200, system.lower())
        assert requests.get(f"{icar}/__admin/health", timeout=5).json()["openflex_url"] == openflex
        refs = call("GET", f"{openflex}/api/v1/reference/vehicles?limit=1", "demo-openflex-key").json()
        ref = refs["items"][0]
        created = call("POST", f"{openflex}/api/v1/vehicles", "demo-openflex-key", {
            "vin": ref["vin"], "destination": "MARCHAND", "origin": "PARTICULIER",
            "purchase_source": "REPRISE"}).json()
        match = call("POST", f"{icar}/api/v1/vehicles/match", "demo-icar-key", {"openflex_id": created["id"]})
        assert match.status_code == 201, match.text
    assert db.exists()
    with serving(db) as urls:
        records = call("GET", f"{urls['ICAR']}/api/v1/vehicles", "demo-icar-key").json()["items"]
        assert [r["openflex_id"] for r in records] == [created["id"]]
        vehicle = call("GET", f"{urls['OpenFlex']}/api/v1/vehicles/{created['id']}", "demo-openflex-key")
        assert (vehicle.status_code, vehicle.json()["vin"]) == (200, ref["vin"])


def test_serve_with_a_bad_profile_says_which_row_and_exits_2(tmp_path, capsys) -> None:  # noqa: ANN001
    from icarflex.scenarios.cli import main

    profile = tmp_path / "bad.yaml"
    profile.write_text("fields:\n  vinx: {dms_modifiable: true}\n", encoding="utf-8")
    code = main(["serve", "--openflex-port", "0", "--icar-port", "0", "--db", str(tmp_path / "s.sqlite3"),
                 "--profile", str(profile)])
    assert code == 2
    assert "fields.vinx" in capsys.readouterr().err


def test_patches_answered_just_before_ctrl_c_are_kept(tmp_path):
    """Every answered PATCH is stored: a restart on the same --db serves the last one answered."""
    db = tmp_path / "icarflex.sqlite3"
    with serving(db) as urls:
        openflex = urls["OpenFlex"]
        refs = call("GET", f"{openflex}/api/v1/reference/vehicles?limit=1", "demo-openflex-key").json()
        ref = refs["items"][0]
        created = call("POST", f"{openflex}/api/v1/vehicles", "demo-openflex-key", {
            "vin": ref["vin"], "destination": "MARCHAND", "origin": "PARTICULIER",
            "purchase_source": "REPRISE"}).json()
        url = f"{openflex}/api/v1/vehicles/{created['id']}"
        for mileage in range(40_000, 40_050):
            last = call("PATCH", url, "demo-dms-key", {"mileage": mileage})
            assert last.status_code == 200, last.text
    with serving(db) as urls:
        again = call("GET", f"{urls['OpenFlex']}/api/v1/vehicles/{created['id']}", "demo-openflex-key")
        assert (again.json()["mileage"], again.headers["ETag"]) == (40_049, last.headers["ETag"])
        events = call("GET", f"{urls['OpenFlex']}/api/v1/events?limit=1000", "demo-openflex-key").json()
        assert [e["data"]["changes"]["mileage"] for e in events["items"]
                if e["type"] == "vehicle.updated"] == list(range(40_000, 40_050))


@pytest.mark.parametrize("url, host", [
    ("postgresql://icarflex@127.0.0.1:1/sandbox", "127.0.0.1:1/sandbox"),
    ("postgresql://icarflex@no-such-host.invalid/x", "no-such-host.invalid")])
def test_serve_on_an_unreachable_postgresql_says_host_and_cause_in_one_line_and_exits_2(
        url: str, host: str) -> None:
    out = subprocess.run([sys.executable, "-m", "icarflex.scenarios.cli", "serve", "--openflex-port", "0",
                          "--icar-port", "0", "--db", url], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and host in lines[0] and "injoignable : " in lines[0], out.stderr


def test_serve_on_another_applications_database_exits_2_and_leaves_it_alone(tmp_path) -> None:  # noqa: ANN001
    import sqlite3
    db = tmp_path / "crm.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    out = subprocess.run([sys.executable, "-m", "icarflex.scenarios.cli", "serve", "--openflex-port", "0",
                          "--icar-port", "0", "--db", str(db)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "pas une base icarflex" in out.stderr, out
    with sqlite3.connect(db) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["customers"]


def test_ctrl_c_stops_serve_even_started_with_sigint_ignored(tmp_path):
    """A background job of a script starts with SIGINT ignored; `kill -INT` still stops serve
    (cleanly: `serving` asserts exit 0 within 10 s)."""
    with serving(tmp_path / "bg.sqlite3", sigint_ignored=True) as urls:
        assert requests.get(f"{urls['OpenFlex']}/__admin/health", timeout=5).status_code == 200
