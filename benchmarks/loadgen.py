"""A small HTTP load generator, used when wrk is absent (and as wrk's twin for checks).

Runs in its own process: N threads, one keep-alive connection each, the same request
for a fixed time; prints one JSON line with requests/s, p50, p99 (ms) and errors.

    python -m benchmarks.loadgen URL --method GET --connections 20 --seconds 5 \
        [--header 'Authorization: Bearer k'] [--body JSON]
"""
from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from urllib.parse import urlsplit


def _worker(url: str, method: str, headers: dict[str, str], body: bytes | None, deadline: float,
            latencies: list[float], errors: list[int]) -> None:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    local: list[float] = []
    failed = 0
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status >= 400:
                failed += 1
        except (OSError, http.client.HTTPException):
            failed += 1
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            continue
        local.append(time.perf_counter() - start)
    conn.close()
    latencies.extend(local)
    errors.append(failed)


def run(url: str, method: str, headers: dict[str, str], body: bytes | None, connections: int,
        seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[int] = []
    deadline = time.perf_counter() + seconds
    work = (url, method, headers, body, deadline, latencies, errors)
    threads = [threading.Thread(target=_worker, args=work) for _ in range(connections)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0

    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50_ms": pct(0.50),
            "p99_ms": pct(0.99), "errors": sum(errors)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--body")
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    body = args.body.encode() if args.body else None
    print(json.dumps(run(args.url, args.method, headers, body, args.connections, args.seconds)))


if __name__ == "__main__":
    main()
