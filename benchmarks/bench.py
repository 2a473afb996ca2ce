"""Measure icarflex side by side, in one run, and print ratios.

    python -m benchmarks.bench [--seconds 5] [--connections 20] [--vehicles 1000] [--threads 8]
                               [--runs 2] [--concurrency 2] [--replay-workers 1] [--skip-prism]
                               [--skip-postgres] [--skip-replay] [--json FILE]

1. Cold start of `icarflex serve` (until both fakes answer /__admin/health).
2. The OpenFlex fake under `icarflex serve --quiet` (one process, SQLite, waitress) and a
   bare Flask app under the same server and settings, loaded in turn by the same generator
   from another process (wrk when installed, else benchmarks.loadgen): GET and PATCH of one
   vehicle, 20 connections, bounded in time, loopback only; each load after a 1 s warm-up,
   measured --runs times (best kept: the machine's noise only ever slows a run).
   Requests/s, p50, p99, and fake/bare. Every PATCH is committed (fsync'ed) before its answer.
3. Where Node is present, the same against Prism mocking contracts/openapi/openflex.json
   (installed once into benchmarks/.cache/prism from the npm registry), run with `-v error`
   (no log line per request, the fair setting): fake/Prism.
4. The same with `serve --workers 2` on PostgreSQL (a throw-away cluster started here, as the
   tests do) against the bare app under gunicorn with 2 waitress workers.
5. Peak memory (RSS high-water mark) of the serve process after the load.
6. In-process replay of every workflow and negative twin; replay of N vehicles through the
   whole particulier lifeline over loopback HTTP against `icarflex serve` (another process,
   --replay-workers), both systems involved: --concurrency runners at once, each in a dealer
   of its own and on its own share of the referential, each step judged as `icarflex run` does.
The load of the machine (1-minute load average) is printed before and after: on a shared
machine, compare runs taken under the same load only.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
ADMIN = {"Authorization": "Bearer demo-admin-key"}
DMS_KEY = "demo-dms-key"
WARM_UP_S = 1.0  # an unmeasured load before each measured one (connections, caches, store pages)
WRK_PATCH = """wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
request = function()
  return wrk.format(nil, nil, nil, '{"mileage": ' .. math.random(1000, 190000) .. '}')
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float = 30) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            if requests.get(url, timeout=0.5).status_code < 500:
                return time.perf_counter() - start
        except requests.RequestException:
            pass
        time.sleep(0.01)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def process(cmd: list[str], **kwargs: Any):  # noqa: ANN201 - yields the Popen
    # Never a pipe nobody reads: a server's warnings would fill it and block the server.
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, **kwargs)
    try:
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- load ---------------------------------------------------------------------------
def load(url: str, method: str, key: str | None, seconds: float, connections: int) -> dict[str, float]:
    if shutil.which("wrk"):
        return _wrk(url, method, key, seconds, connections)
    headers = ["--header", f"Authorization: Bearer {key}"] if key else []
    body = ["--body", '{"mileage": 12345}', "--header", "Content-Type: application/json"] \
        if method == "PATCH" else []
    out = subprocess.run([sys.executable, "-m", "benchmarks.loadgen", url, "--method", method,
                          "--connections", str(connections), "--seconds", str(seconds), *headers, *body],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout)


def _wrk(url: str, method: str, key: str | None, seconds: float, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if method == "PATCH":
            script.write(WRK_PATCH % (key or ""))
        elif key:
            script.write(f'wrk.headers["Authorization"] = "Bearer {key}"\n')
    try:
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
                              "-s", script.name, url], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    result = _parse_wrk(out)
    if not result.get("rps"):
        raise RuntimeError(f"wrk measured nothing against {url}:\n{out}")
    return result


def _parse_wrk(out: str) -> dict[str, float]:
    result: dict[str, float] = {"errors": 0}
    for line in out.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            result["rps"] = float(words[1])
        elif words[:1] in (["50%"], ["99%"]):
            result[f"p{words[0][:-1]}_ms"] = _ms(words[1])
        elif "Non-2xx" in line or line.strip().startswith("Socket errors"):
            result["errors"] += sum(int(w.strip(",")) for w in words if w.strip(",").isdigit())
        elif "requests in" in line:
            result["requests"] = int(words[0])
    return result


def _ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


# --- the contenders -------------------------------------------------------------------
def start_serve(db: str, threads: int, workers: int = 1,
                env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str, str, float]:
    of_port, icar_port = free_port(), free_port()
    cmd = [sys.executable, "-m", "icarflex.scenarios.cli", "serve", "--openflex-port", str(of_port),
           "--icar-port", str(icar_port), "--db", db, "--threads", str(threads), "--quiet",
           "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                            env={**os.environ, **(env or {})})
    start = time.perf_counter()
    of_url, icar_url = f"http://127.0.0.1:{of_port}", f"http://127.0.0.1:{icar_port}"
    wait_until_up(f"{of_url}/__admin/health")
    wait_until_up(f"{icar_url}/__admin/health")
    return proc, of_url, icar_url, time.perf_counter() - start


def sample_vehicle(of_url: str) -> dict[str, Any]:
    requests.post(f"{of_url}/__admin/seed", json={"dealer": "demo", "count": 1, "seed": 7},
                  headers=ADMIN, timeout=10).raise_for_status()
    listing = requests.get(f"{of_url}/api/v1/vehicles?limit=1", timeout=10,
                           headers={"Authorization": f"Bearer {DMS_KEY}"}).json()
    return listing["items"][0]


def prism_binary() -> Path | None:
    if not shutil.which("npm"):
        return None
    binary = CACHE / "prism" / "node_modules" / ".bin" / "prism"
    if not binary.exists():
        (CACHE / "prism").mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "@stoplight/prism-cli@5"],
                       cwd=CACHE / "prism", check=True, capture_output=True)
    return binary


def measure_pair(name: str, url: str, key: str | None, args: argparse.Namespace) -> dict[str, Any]:
    """GET then PATCH: each after a short warm-up, measured `--runs` times, the best run kept."""
    figures = {}
    for method in ("GET", "PATCH"):
        load(url, method, key, WARM_UP_S, args.connections)
        runs = [load(url, method, key, args.seconds, args.connections) for _ in range(args.runs)]
        figures[method] = max(runs, key=lambda run: run["rps"])
    return figures


def row(label: str, figures: dict[str, float]) -> str:
    return (f"  {label:<28} {figures.get('rps', 0):>9.0f} req/s   p50 {figures.get('p50_ms', 0):>7.2f} ms"
            f"   p99 {figures.get('p99_ms', 0):>7.2f} ms   errors {int(figures.get('errors', 0))}")


def http_benchmarks(args: argparse.Namespace, results: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory(prefix="icarflex-bench-") as tmp:
        proc, of_url, _icar_url, cold = start_serve(f"{tmp}/bench.sqlite3", args.threads)
        try:
            results["cold_start_s"] = cold
            vehicle = sample_vehicle(of_url)
            path = f"/api/v1/vehicles/{vehicle['id']}"
            results["fake"] = measure_pair("fake", of_url + path, DMS_KEY, args)
            results["fake_rss_mb"] = peak_rss_mb(proc.pid)
        finally:
            stop(proc)
        vehicle_file = Path(tmp) / "vehicle.json"
        vehicle_file.write_text(json.dumps(vehicle))
        port = free_port()
        with process([sys.executable, "-m", "benchmarks.bare_app", str(port), str(args.threads),
                      str(vehicle_file)]):
            wait_until_up(f"http://127.0.0.1:{port}/__admin/health")
            results["bare"] = measure_pair("bare", f"http://127.0.0.1:{port}{path}", None, args)
        prism = None if args.skip_prism else prism_binary()
        if prism is not None:
            port = free_port()
            spec = ROOT / "contracts" / "openapi" / "openflex.json"
            with process([str(prism), "mock", str(spec), "-p", str(port), "-h", "127.0.0.1", "-v", "error"]):
                wait_until_up(f"http://127.0.0.1:{port}{path}", timeout=60)
                results["prism"] = measure_pair("prism", f"http://127.0.0.1:{port}{path}", DMS_KEY, args)


def postgres_benchmarks(args: argparse.Namespace, results: dict[str, Any]) -> None:
    """`serve --workers 2` on PostgreSQL against the bare app with 2 workers (same server)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from pgcluster import Cluster, binaries
    if binaries() is None:
        results["postgres_skipped"] = "PostgreSQL binaries not found"
        return
    cluster = Cluster.start()
    try:
        proc, of_url, _icar_url, _ = start_serve(cluster.create_database(), args.threads, workers=2)
        try:
            vehicle = sample_vehicle(of_url)
            path = f"/api/v1/vehicles/{vehicle['id']}"
            results["fake_pg2"] = measure_pair("fake", of_url + path, DMS_KEY, args)
        finally:
            stop(proc)
    finally:
        cluster.stop()
    with tempfile.TemporaryDirectory(prefix="icarflex-bench-") as tmp:
        vehicle_file = Path(tmp) / "vehicle.json"
        vehicle_file.write_text(json.dumps(vehicle))
        port = free_port()
        with process([sys.executable, "-m", "benchmarks.bare_app", str(port), str(args.threads),
                      str(vehicle_file), "2"]):
            wait_until_up(f"http://127.0.0.1:{port}/__admin/health")
            results["bare2"] = measure_pair("bare", f"http://127.0.0.1:{port}{path}", None, args)


def replay_benchmarks(args: argparse.Namespace, results: dict[str, Any]) -> None:
    from benchmarks.replay import replay_all_in_process, replay_vehicles, served_config
    results["replay_all_s"] = replay_all_in_process(args.seed)
    with tempfile.TemporaryDirectory(prefix="icarflex-bench-") as tmp:
        proc, of_url, icar_url, _ = start_serve(f"{tmp}/replay.sqlite3", args.threads, args.replay_workers,
                                                env=served_config(args.vehicles))
        try:
            results["replay_vehicles"] = replay_vehicles(of_url, icar_url, args.vehicles, args.seed,
                                                         args.concurrency)
        finally:
            stop(proc)
    results["replay_vehicles"]["workers"] = args.replay_workers


def print_pair(results: dict[str, Any], fake: str, bare: str, title: str, labels: tuple[str, str],
               show_prism: bool) -> None:
    """GET and PATCH of the fake beside the bare app (and Prism where it ran), with the ratios."""
    for method in ("GET", "PATCH"):
        print(f"{method} /api/v1/vehicles/{{id}}   {title}")
        print(row(labels[0], results[fake][method]))
        print(row(labels[1], results[bare][method]))
        ratio = results[fake][method]["rps"] / results[bare][method]["rps"]
        print(f"  fake/bare = {ratio:.2f}   (target >= 0.6)")
        if "prism" in results:
            if show_prism:
                print(row("Prism mock", results["prism"][method]))
            ratio = results[fake][method]["rps"] / results["prism"][method]["rps"]
            print(f"  fake/Prism = {ratio:.2f}   (target >= 1.0)")


def print_results(results: dict[str, Any], runs: int) -> None:
    print(f"icarflex benchmarks (this machine: {os.cpu_count()} cores; 1-minute load average "
          f"{results['load_before']:.1f} before, {results['load_after']:.1f} after)")
    if "fake" in results:
        print(f"cold start of `icarflex serve` (both fakes answer): {results['cold_start_s']:.2f} s")
        print_pair(results, "fake", "bare", f"(best of {runs} runs, each after a warm-up)",
                   ("OpenFlex fake", "bare Flask (same server)"), show_prism=True)
        print(f"peak RSS of `icarflex serve` after the load: {results['fake_rss_mb']:.0f} MB")
    if "fake_pg2" in results:
        print_pair(results, "fake_pg2", "bare2", f"serve --workers 2 on PostgreSQL (best of {runs} runs)",
                   ("OpenFlex fake, 2 workers", "bare Flask, 2 workers"), show_prism=False)
    elif "postgres_skipped" in results:
        print(f"serve --workers 2 on PostgreSQL: skipped ({results['postgres_skipped']})")
    if "replay_all_s" in results:
        print(f"in-process replay of every workflow and negative twin: {results['replay_all_s']:.2f} s"
              "   (target < 3 s)")
        rv = results["replay_vehicles"]
        print(f"replay of {rv['vehicles']} vehicles through the particulier lifeline over loopback HTTP, "
              f"against `serve --workers {rv['workers']}` ({rv['concurrency']} runners at once, "
              f"a dealer each): {rv['seconds']:.1f} s "
              f"({rv['vehicles'] / rv['seconds']:.0f} vehicles/s)   (target < 60 s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--runs", type=int, default=2, help="measured runs per load; the best is kept")
    parser.add_argument("--vehicles", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--concurrency", type=int, default=2,
                        help="replay runners at once, each in a dealer of its own")
    parser.add_argument("--replay-workers", type=int, default=1,
                        help="`serve --workers` of the fakes the vehicles are replayed against")
    parser.add_argument("--skip-prism", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-replay", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    if not args.skip_http:
        http_benchmarks(args, results)
        if not args.skip_postgres:
            postgres_benchmarks(args, results)
    if not args.skip_replay:
        replay_benchmarks(args, results)
    results["load_after"] = os.getloadavg()[0]
    print_results(results, args.runs)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
