"""Test helpers: `icarflex serve` as a real process (its own process group) on free loopback
ports, the URLs it announces, and keep-alive HTTP clients for load from several threads."""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

URL = re.compile(r"(OpenFlex|ICAR) fake\s*:\s*(http://127\.0\.0\.1:\d+)")
KEYS = {"openflex_user": "demo-openflex-key", "dms": "demo-dms-key", "admin": "demo-admin-key"}
CREATION = {"destination": "CASSE", "origin": "PARTICULIER", "purchase_source": "REPRISE"}


@dataclass
class Served:
    proc: subprocess.Popen[str]
    urls: dict[str, str]
    output: list[str] = field(default_factory=list)

    @property
    def openflex(self) -> str:
        return self.urls["OpenFlex"]

    def kill(self) -> None:
        """kill -9 of serve and everything it started (its workers)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9


def start_serve(db: str, *extra: str, timeout: float = 60) -> Served:
    """`icarflex serve` on free ports over `db`, once both fakes are announced."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "icarflex.scenarios.cli", "serve", "--openflex-port", "0",
                             "--icar-port", "0", "--db", db, "--threads", "4", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    served = Served(proc, {})
    ready = threading.Event()

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            served.output.append(line)
            for system, url in URL.findall(line):
                served.urls[system] = url
            if len(served.urls) == 2:
                ready.set()
        proc.stdout.close()  # type: ignore[union-attr] - at its end: serve is gone

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(timeout):
        served.kill()
        raise AssertionError(f"serve did not start: {''.join(served.output)[-3000:]}")
    return served


class Client:
    """One keep-alive HTTP/1.1 connection (http.client), JSON in and out."""

    def __init__(self, base_url: str, key: str) -> None:
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.key = key

    def send(self, method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        data = None if body is None else json.dumps(body).encode()
        sent = {"Authorization": f"Bearer {self.key}", **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        self.conn.request(method, f"/api/v1{path}", body=data, headers=sent)
        reply = self.conn.getresponse()
        raw = reply.read()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, json.loads(raw) if raw else None

    def close(self) -> None:
        self.conn.close()


def call(base_url: str, method: str, path: str, key: str = KEYS["openflex_user"], body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    client = Client(base_url, key)
    try:
        return client.send(method, path, body, headers)
    finally:
        client.close()


def feed(base_url: str) -> list[dict[str, Any]]:
    """The demo dealer's whole change feed, page by page."""
    items, after = [], 0
    while True:
        status, _, page = call(base_url, "GET", f"/events?after={after}&limit=1000")
        assert status == 200, page
        items += page["items"]
        if not page["items"]:
            return items
        after = page["next_cursor"]
