"""`run --pact DIR` writes a Pact v4 file (consumer the ICAR connector, provider the OpenFlex API
VO, provider states named after the workflow steps); Pact's own verifier (pact-python) replays
it green against the OpenFlex fake, states set up through `POST /__admin/provider-states`, and
red against a fake serving a profile that flips a row the interactions need (mileage → NON)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.openflex.app import create_app
from icarflex.profiles import path_of
from icarflex.scenarios.cli import main
from icarflex.scenarios.pact import CONSUMER, PROVIDER
from pact import Verifier


@pytest.fixture(scope="module")
def pact_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pacts")
    assert main(["run", "all", "--pact", str(folder), "-q"]) == 0
    (written,) = folder.glob("*.json")
    return written


def verify(pact_file: Path, profile: str | None) -> None:
    with LiveServer(create_app({"PROFILE": path_of(profile) if profile else None}), threads=4) as openflex:
        states = f"{openflex.url}/__admin/provider-states?key=demo-admin-key"
        (Verifier(PROVIDER, host="127.0.0.1").add_transport(url=openflex.url).add_source(pact_file)
         .state_handler(states, teardown=False, body=True).verify())


def test_the_pact_file_is_v4_with_states_named_after_workflow_steps(pact_file: Path) -> None:
    pact = json.loads(pact_file.read_text(encoding="utf-8"))
    assert pact["metadata"]["pactSpecification"]["version"] == "4.0"
    assert (pact["consumer"]["name"], pact["provider"]["name"]) == (CONSUMER, PROVIDER)
    states = {i["providerStates"][0]["name"] for i in pact["interactions"]}
    assert "particulier : véhicule prêt pour l'étape physical_entry" in states
    assert "casse : véhicule prêt pour l'étape invoice" in states
    assert {i["type"] for i in pact["interactions"]} == {"Synchronous/HTTP"}
    refused = [i for i in pact["interactions"] if i["response"]["status"] >= 400]
    assert {i["response"]["body"]["content"]["code"] for i in refused} >= {"FIELD_NOT_MODIFIABLE",
                                                                           "PRICE_NOT_ALLOWED"}


def test_pact_verifier_is_green_against_the_fake(pact_file: Path, capfd: pytest.CaptureFixture[str]) -> None:
    verify(pact_file, None)
    assert "FAILED" not in capfd.readouterr().out


def test_pact_verifier_is_red_against_a_fake_locking_mileage(pact_file: Path,
                                                             capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exception):  # noqa: B017 - pact-python raises a bare RuntimeError subclass
        verify(pact_file, "locked-mileage")
    out = capfd.readouterr().out
    assert "particulier : véhicule prêt pour l'étape physical_entry" in out and "FAILED" in out
