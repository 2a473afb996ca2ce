"""The workflow replay (`icarflex run all`) against `icarflex serve` on PostgreSQL with two
workers: the shared-sandbox setup, as a team would run it (the SQLite replay runs in-process
in the other scenario tests)."""
from __future__ import annotations

import subprocess
import sys

from serving import start_serve


def test_run_all_holds_against_serve_on_postgresql_with_two_workers(postgres_url: str) -> None:
    served = start_serve(postgres_url, "--workers", "2")
    try:
        out = subprocess.run([sys.executable, "-m", "icarflex.scenarios.cli", "run", "all",
                              "--openflex-url", served.urls["OpenFlex"], "--icar-url", served.urls["ICAR"]],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, (out.stdout[-3000:], out.stderr[-3000:])
    finally:
        assert served.stop() == 0
