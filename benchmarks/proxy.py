"""Proxy overhead per call: the same calls sent to the OpenFlex fake directly and through
`icarflex proxy`, interleaved, in one run.

`python -m benchmarks.proxy [--calls 1000] [--json FILE]`: the fake (`icarflex serve`) and the
proxy (`icarflex proxy --target <fake>`) each run as their own process, as an integrator runs
them; one keep-alive client (the one transport, `icarflex.mocks.common.transport`) sends each
call once direct, once proxied, alternately, so both see the same machine load. Calls: GET of a
vehicle (the proxy relays and journals it) and a PATCH of its mileage by the DMS (allowed; the
proxy also reads the vehicle before it, to judge it). Printed: p50 and p99 of each, and the
proxy's overhead per call (p50 proxied − p50 direct).
"""
from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from icarflex.mocks.common.transport import Transport, encode_json

API = "/api/v1"
VEHICLE = {"vin": "VF1RFB00X12345678", "registration": "AB-123-CD", "destination": "PARTICULIER",
           "purchase_source": "ACHAT_DIRECT", "origin": "PARTICULIER"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, seconds: float = 30.0) -> None:
    probe = Transport(url, timeout=1.0)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                if probe.request("GET", "/__admin/health").status == 200:
                    return
            except Exception:  # noqa: BLE001 - not up yet
                pass
            time.sleep(0.1)
    finally:
        probe.close()
    raise RuntimeError(f"{url} did not come up within {seconds:g} s")


@contextmanager
def _process(command: list[str], url: str) -> Iterator[str]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_until_up(url)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def fake_and_proxy(folder: Path) -> Iterator[tuple[str, str]]:
    """The OpenFlex fake and the proxy in front of it, each its own process; their URLs."""
    fake_port, icar_port, proxy_port = _free_port(), _free_port(), _free_port()
    fake = f"http://127.0.0.1:{fake_port}"
    serve = [sys.executable, "-m", "icarflex.scenarios.cli", "serve", "--openflex-port", str(fake_port),
             "--icar-port", str(icar_port), "--db", str(folder / "bench.sqlite3")]
    proxy = [sys.executable, "-m", "icarflex.scenarios.cli", "proxy", "--target", fake,
             "--listen", f"127.0.0.1:{proxy_port}", "--journal", str(folder / "proxy.jsonl")]
    with _process(serve, fake), _process(proxy, f"http://127.0.0.1:{proxy_port}") as proxied:
        yield fake, proxied


def _timed(call: Callable[[], int]) -> float:
    started = time.perf_counter()
    status = call()
    elapsed = (time.perf_counter() - started) * 1000
    if status >= 300:
        raise RuntimeError(f"benchmark call answered {status}")
    return elapsed


def measure(direct_url: str, proxy_url: str, calls: int) -> dict[str, dict[str, float]]:
    """p50/p99 (ms) of each call, direct and proxied, sent alternately by one keep-alive client."""
    clients = {"direct": Transport(direct_url, timeout=30), "proxy": Transport(proxy_url, timeout=30)}
    user, dms = {"Authorization": "Bearer demo-openflex-key"}, {"Authorization": "Bearer demo-dms-key"}
    created = clients["direct"].request("POST", f"{API}/vehicles", body=encode_json(VEHICLE), headers=user)
    vehicle = f"{API}/vehicles/{json.loads(created.content)['id']}"
    samples: dict[str, dict[str, list[float]]] = {op: {"direct": [], "proxy": []} for op in ("GET", "PATCH")}
    mileage = 10_000
    try:
        for index in range(calls + calls // 10):   # the first tenth warms up, not counted
            for way, client in clients.items():
                mileage += 1
                body = encode_json({"mileage": mileage})
                get = _timed(lambda c=client: c.request("GET", vehicle, headers=user).status)
                patch = _timed(lambda c=client, b=body: c.request("PATCH", vehicle, body=b,
                                                                  headers=dms).status)
                if index >= calls // 10:
                    samples["GET"][way].append(get)
                    samples["PATCH"][way].append(patch)
    finally:
        for client in clients.values():
            client.close()
    return {f"{op} {way}": _quantiles(values) for op, ways in samples.items() for way, values in ways.items()}


def _quantiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100) if len(values) > 1 else [values[0]] * 99
    return {"p50": statistics.median(values), "p99": cuts[98], "n": len(values)}


def report(figures: dict[str, dict[str, float]]) -> str:
    lines = [f"{'call':<8} {'direct p50':>11} {'proxy p50':>10} {'overhead p50':>13} {'direct p99':>11} "
             f"{'proxy p99':>10}   n"]
    for op in ("GET", "PATCH"):
        direct, proxied = figures[f"{op} direct"], figures[f"{op} proxy"]
        lines.append(f"{op:<8} {direct['p50']:>8.2f} ms {proxied['p50']:>7.2f} ms "
                     f"{proxied['p50'] - direct['p50']:>+10.2f} ms {direct['p99']:>8.2f} ms "
                     f"{proxied['p99']:>7.2f} ms   {direct['n']:.0f}")
    lines.append("proxy overhead per call (p50): "
                 + ", ".join(f"{op} +{figures[f'{op} proxy']['p50'] - figures[f'{op} direct']['p50']:.2f} ms"
                             for op in ("GET", "PATCH"))
                 + " (a PATCH includes the proxy's read of the vehicle before it)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="calls of each kind, each way")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="icarflex-proxy-bench-") as folder:
        with fake_and_proxy(Path(folder)) as (direct, proxied):
            figures: dict[str, Any] = measure(direct, proxied, max(args.calls, 2))
    sys.stdout.write(f"icarflex proxy — {args.calls} calls of each kind, direct and proxied alternately, "
                     "one keep-alive client, fake and proxy each in its own process\n")
    sys.stdout.write(report(figures) + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
