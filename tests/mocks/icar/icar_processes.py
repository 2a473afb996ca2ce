"""`icarflex serve` as real processes for the ICAR tests that kill or share them, and what they check."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from icarflex.mocks.icar.lifecycle import lifecycle

LIFE = lifecycle()
URL = re.compile(r"(OpenFlex|ICAR) fake\s*:\s*(http://127\.0\.0\.1:\d+)")
ICAR_KEY, OPENFLEX_KEY, ADMIN_KEY = "demo-icar-key", "demo-openflex-key", "demo-admin-key"


@contextmanager
def serving(db: Path | str, *extra: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "icarflex.scenarios.cli", "serve", "--openflex-port", "0",
                             "--icar-port", "0", "--db", str(db), "--threads", "8", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    urls: dict[str, str] = {}
    ready = threading.Event()

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            urls.update(dict((system, url) for system, url in URL.findall(line)))
            if len(urls) == 2:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(30), f"serve did not announce its URLs (exit code {proc.poll()})"
        yield proc, urls
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


class Client:
    def __init__(self, urls: dict[str, str]) -> None:
        self.urls, self.session = urls, requests.Session()

    def icar(self, method: str, path: str, json: Any = None) -> requests.Response:
        return self.session.request(method, self.urls["ICAR"] + "/api/v1" + path, json=json, timeout=30,
                                    headers={"Authorization": f"Bearer {ICAR_KEY}"})

    def openflex(self, method: str, path: str, json: Any = None,
                 key: str = OPENFLEX_KEY) -> requests.Response:
        url = self.urls["OpenFlex"] + ("" if path.startswith("/__") else "/api/v1") + path
        return self.session.request(method, url, json=json, timeout=30,
                                    headers={"Authorization": f"Bearer {key}"})


def take_in(client: Client, start: int, count: int) -> list[tuple[str, str]]:
    """`count` reconciled OpenFlex vehicles matched in ICAR: (openflex id, record id) each."""
    refs = client.openflex("GET", f"/reference/vehicles?limit={start + count}").json()["items"][start:]
    pairs = []
    for ref in refs:
        created = client.openflex("POST", "/vehicles", {
            "vin": ref["vin"], "registration": ref["registration"], "destination": "MARCHAND",
            "origin": "PARTICULIER", "purchase_source": "REPRISE"})
        assert created.status_code == 201, created.text
        match = client.icar("POST", "/vehicles/match", {"openflex_id": created.json()["id"]})
        assert match.status_code == 201, match.text
        pairs.append((created.json()["id"], match.json()["id"]))
    return pairs


def check_register(client: Client, site: str) -> dict[str, str]:
    """The site's livre de police is gapless (lines 1..n), with no number twice, every line booked,
    one line per record; record id → its number."""
    register = client.icar("GET", "/police-register?limit=1000").json()["items"]
    lines = [e for e in register if e["site"] == site]
    assert sorted(e["seq"] for e in lines) == list(range(1, len(lines) + 1)), "a gap in the register"
    assert len({e["number"] for e in lines}) == len(lines), "a police number twice"
    assert {e["state"] for e in lines} <= {"BOOKED"}, [e for e in lines if e["state"] != "BOOKED"]
    booked = {e["record_id"]: e["number"] for e in lines}
    assert len(booked) == len(lines), "a record with two lines of the register"
    return booked
