"""`--icarflex-openflex-url` / `--icarflex-icar-url` point the fixture at servers already
running: each test still gets a dealer of its own there, and a target that cannot give one
fails the test saying why (a pytest run in a subprocess, as an integrator's CI runs it)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from icarflex.scenarios.fakes import local_fakes

INNER = '''
def test_on_the_named_servers(icarflex_fakes):
    assert icarflex_fakes.openflex_url == "{openflex}" and icarflex_fakes.icar_url == "{icar}"
    assert icarflex_fakes.dealer.startswith("t-") and icarflex_fakes.audit().ok
'''
# Other plugins of this venv left out of the inner run: it only needs icarflex's (and starts faster).
LEAN = ("-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:pact",
        "-p", "no:anyio", "-p", "no:xdist", "-p", "no:xdist.looponfail")


def run_inner(tmp_path: Path, source: str, *options: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_inner.py").write_text(source, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", *LEAN, *options,
                           "test_inner.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_the_fixture_on_servers_already_running(tmp_path: Path) -> None:
    with local_fakes() as fakes:
        done = run_inner(tmp_path, INNER.format(openflex=fakes.openflex_url, icar=fakes.icar_url),
                         "--icarflex-openflex-url", fakes.openflex_url, "--icarflex-icar-url", fakes.icar_url)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_target_that_gives_no_dealer_fails_saying_why(tmp_path: Path) -> None:
    with local_fakes() as fakes:
        done = run_inner(tmp_path, "def test_x(icarflex_fakes):\n    pass\n",
                         "--icarflex-openflex-url", fakes.openflex_url, "--icarflex-icar-url", fakes.icar_url,
                         "--icarflex-admin-key", "wrong")
    assert done.returncode == 1
    assert "icarflex : OpenFlex" in done.stdout and "refuse la clé admin" in done.stdout
