"""schemathesis with every check (`--checks all`: positive data acceptance, negative data
rejection, stateful links…) on both fakes, over real HTTP, as an integrator runs it (issue 15).

The CLI runs against both fakes served on loopback with seeded stock, with the repository's
`schemathesis.toml` and the hooks' own check (`schemathesis_hooks.py`); any finding fails
the test with schemathesis's report. Examples are bounded and the seed fixed, so a run takes
seconds; `README.md` gives the same command for a longer run by hand.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from icarflex.contracts import load_contract
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.icar.app import create_app as create_icar
from icarflex.mocks.icar.routes import build_api as build_icar_api
from icarflex.mocks.openflex.app import create_app as create_openflex

ROOT = Path(__file__).resolve().parents[3]
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
CLI = Path(sys.executable).with_name("schemathesis")
ADMIN = {"Authorization": "Bearer demo-admin-key"}
RUNS = {  # name: (fake, key, extra arguments)
    "openflex_user": ("openflex", "demo-openflex-key", []),
    "dms": ("openflex", "demo-dms-key", ["--include-tag", "vehicles"]),
    "admin_settings": ("openflex", "demo-admin-key", ["--include-tag", "settings",
                                                      "--phases", "examples,coverage,fuzzing"]),
    "icar_user": ("icar", "demo-icar-key", []),
}


@pytest.fixture(scope="module")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    folder = tmp_path_factory.mktemp("schemathesis")
    with LiveServer(create_openflex({"DB": str(folder / "openflex.sqlite3")}), threads=4) as openflex:
        icar_app = create_icar({"DB": str(folder / "icar.sqlite3"), "OPENFLEX_URL": openflex.url,
                                "SYNC_TIMEOUT": 2.0, "SYNC_RETRIES": 1, "SYNC_BACKOFF": 0.01})
        with LiveServer(icar_app, threads=4) as icar:
            for url, count in ((openflex.url, 12), (icar.url, 6)):  # stock for the links to start from
                reply = requests.post(f"{url}/__admin/seed", json={"count": count}, headers=ADMIN, timeout=30)
                assert reply.status_code == 201, reply.text
            yield {"openflex": openflex.url, "icar": icar.url}


@pytest.mark.parametrize("run", list(RUNS))
def test_schemathesis_finds_nothing_with_every_check(fakes: dict[str, str], run: str, tmp_path: Path):
    fake, key, extra = RUNS[run]
    command = [str(CLI), "--config-file", str(ROOT / "schemathesis.toml"), "run",
               f"{fakes[fake]}/openapi.json", "-H", f"Authorization: Bearer {key}", "--checks", "all",
               "--max-examples", "8", "--seed", "1", "--workers", "1", "--no-color",
               "--generation-database", "none", *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path,  # its cache
                          env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)})
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    print(done.stdout.strip().splitlines()[-1])  # the summary line (its time), shown with -s
    assert " passed" in done.stdout, done.stdout[-2000:]


def _allowances(check: str) -> dict[str, set[str]]:
    config = tomllib.loads((ROOT / "schemathesis.toml").read_text(encoding="utf-8"))
    out: dict[str, set[str]] = {}
    for entry in config["operations"]:
        statuses = entry.get("checks", {}).get(check, {}).get("expected-statuses")
        ids = entry["include-operation-id"]
        for op in [ids] if isinstance(ids, str) else ids:
            if statuses:
                out[op] = set(statuses)
    return out


def test_the_config_allows_a_refusal_exactly_where_the_document_names_one():
    """`schemathesis.toml` adds 412/422 to positive data acceptance for the operations, and
    only those, whose OpenAPI entry names refusals of that status; 502/504 to "not a server
    error" for the ICAR operations that push to OpenFlex."""
    named: dict[str, set[str]] = {}
    for fake in (create_openflex(), create_icar()):
        for op in fake.extensions["icarflex"].api.operations:
            statuses = {str(r.status) for r in op.refusals} & {"412", "422"}
            if statuses:
                named[op.operation_id] = statuses
    accepted = _allowances("positive_data_acceptance")
    assert {op: statuses & {"412", "422"} for op, statuses in accepted.items()} == named
    not_errors = _allowances("not_a_server_error")
    upstream = {op for op, statuses in not_errors.items() if {"502", "504"} <= statuses}
    assert upstream == build_icar_api(load_contract()).upstream_operations
