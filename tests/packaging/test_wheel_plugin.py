"""The built wheel (not the editable install) beside an integrator's project with its own
`mocks/` and `scenarios/` packages: the pytest plugin works there (the README's example too),
and names never collide.

The wheel is built from a copy of the sources (`pip wheel`, isolated build), installed with
`--no-deps` into a fresh venv made without pip; the venv reaches its dependencies (Flask,
pydantic, pytest…) through a `.pth` line naming this venv's site-packages, so nothing is
downloaded. That line adds a path, it does not process the `.pth` files there: the editable
install of icarflex in this venv stays inert, and the test checks icarflex is the wheel's.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "icarflex", "contracts", "mocks", "scenarios", "profiles")

CONNECTOR = '''
"""The integrator's own connector (their `mocks` package, not icarflex's)."""
import requests


def push(openflex_url, dms_key, vehicle_id, change):
    return requests.patch(f"{openflex_url}/api/v1/vehicles/{vehicle_id}", json=change, timeout=10,
                          headers={"Authorization": f"Bearer {dms_key}",
                                   "Content-Type": "application/merge-patch+json"})
'''

INTEGRATOR_TESTS = '''
import icarflex
import requests
import scenarios
from mocks.connector import push

VEHICLE = {"vin": "VF1RFB00X56789012", "registration": "AB-123-CD", "destination": "PARTICULIER",
           "origin": "PARTICULIER", "mileage": 42000, "first_registration_date": "2019-03-01",
           "purchase_source": "ACHAT_DIRECT", "trade_in_price": 5000}


def created(fakes):
    reply = requests.post(f"{fakes.openflex_url}/api/v1/vehicles", json=VEHICLE, timeout=10,
                          headers={"Authorization": f"Bearer {fakes.keys['openflex_user']}"})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def test_names_are_ours_and_icarflex_is_the_wheel():
    assert scenarios.OURS and "site-packages" in icarflex.__file__ and ".venv" not in icarflex.__file__


def test_forbidden_dms_write_is_a_violation(icarflex_fakes):
    vehicle_id = created(icarflex_fakes)
    push(icarflex_fakes.openflex_url, icarflex_fakes.keys["dms"], vehicle_id, {"vin": "VF1RFB00X56789099"})
    verdict = icarflex_fakes.audit()
    assert not verdict.ok
    (violation,) = verdict.violations
    assert (violation.rule, violation.field, violation.label) == ("R6", "vin", "Châssis VO")
    assert violation.refused and violation.request["method"] == "PATCH"


def test_clean_connector_is_ok(icarflex_fakes):
    vehicle_id = created(icarflex_fakes)
    reply = push(icarflex_fakes.openflex_url, icarflex_fakes.keys["dms"], vehicle_id, {"mileage": 43100})
    assert reply.status_code == 200, reply.text
    verdict = icarflex_fakes.audit()
    assert verdict.ok and verdict.entries == 2, str(verdict)


def test_each_test_has_its_own_dealer(icarflex_fakes):
    listed = requests.get(f"{icarflex_fakes.openflex_url}/api/v1/vehicles", timeout=10,
                          headers={"Authorization": f"Bearer {icarflex_fakes.keys['openflex_user']}"})
    assert listed.json()["items"] == []
'''

# Other plugins of this venv left out of the inner run: it only needs icarflex's (and starts faster).
LEAN = ("-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:pact",
        "-p", "no:anyio", "-p", "no:xdist", "-p", "no:xdist.looponfail")


def _run(*command: str | Path, cwd: Path | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(
            ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                          if (ROOT / name).is_dir() else {}))
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, source)
    (built,) = out.glob("icarflex-*.whl")
    return built


def _venv_with(wheel: Path, where: Path) -> Path:
    _run(sys.executable, "-m", "venv", "--without-pip", where)
    python = where / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel)
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "_icarflex_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python


def readme_example() -> str:
    """The plugin's complete example, as the README prints it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("A complete example"):]
    return re.search(r"```python\n(.*?)```", section, re.S)[1]


def _integrator_project(where: Path) -> Path:
    (where / "mocks").mkdir(parents=True)
    (where / "mocks" / "__init__.py").write_text("")
    (where / "mocks" / "connector.py").write_text(textwrap.dedent(CONNECTOR))
    (where / "scenarios").mkdir()
    (where / "scenarios" / "__init__.py").write_text("OURS = True\n")
    (where / "tests").mkdir()
    (where / "tests" / "test_connector.py").write_text(textwrap.dedent(INTEGRATOR_TESTS))
    # The README's example, with `my_connector` the integrator's connector of this project.
    (where / "my_connector.py").write_text("from mocks.connector import push as push_to_openflex\n")
    (where / "tests" / "test_readme_example.py").write_text(readme_example())
    (where / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    return where


@pytest.fixture(scope="module")
def python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fresh venv's interpreter, the wheel installed in it."""
    return _venv_with(wheel, tmp_path_factory.mktemp("venv"))


def test_plugin_from_the_wheel_beside_own_mocks_and_scenarios(python: Path, tmp_path: Path) -> None:
    project = _integrator_project(tmp_path / "project")
    done = subprocess.run([python, "-m", "pytest", "-q", *LEAN, "tests"], cwd=project,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout


def test_version_from_the_wheel(python: Path, tmp_path: Path) -> None:
    done = _run(python, "-m", "icarflex.scenarios.cli", "--version", cwd=tmp_path)
    assert done.stdout.strip() == "icarflex 0.1.0"
