"""Where a request's time goes inside the OpenFlex fake: cProfile over N requests, in-process.

    python -m benchmarks.profile GET|PATCH [--requests 1000] [--db PATH|postgresql://…] [--top 25]

The fake is called through Flask's test client (no server, no network): what remains is the
fake's own work (routing, auth, the contract's rule engine, the store, the journal), listed
by cumulative time, with the requests/s of the profiled loop.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time

CREATION = {"destination": "CASSE", "origin": "PARTICULIER", "purchase_source": "REPRISE"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("method", choices=["GET", "PATCH"])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--db", help="store (default: a temporary SQLite file)")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    from icarflex.mocks.openflex.app import create_app

    with tempfile.TemporaryDirectory(prefix="icarflex-profile-") as tmp:
        app = create_app({"DB": args.db or f"{tmp}/profile.sqlite3"})
        client = app.test_client()
        created = client.post("/api/v1/vehicles", json=CREATION,
                              headers={"Authorization": "Bearer demo-openflex-key"}).json
        url, dms = f"/api/v1/vehicles/{created['id']}", {"Authorization": "Bearer demo-dms-key"}

        def send(n: int) -> None:
            for i in range(n):
                if args.method == "GET":
                    client.get(url, headers=dms)
                else:
                    client.patch(url, json={"mileage": i + 1}, headers=dms)

        send(50)  # warm: connections, caches of the models
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        send(args.requests)
        profile.disable()
        elapsed = time.perf_counter() - started
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
        app.extensions["icarflex"].store.close()
    sys.stdout.write(f"{args.method} {url}: {args.requests / elapsed:.0f} req/s under the profiler, "
                     "one thread, no server\n" + out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
