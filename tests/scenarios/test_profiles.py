"""A dealer's own parameterization: `run --profile` against fakes serving that profile holds,
workflows the profile makes impossible say which row, and the DMS connector leaves out the
optional data the profile keeps from it (guide §2)."""
from __future__ import annotations

from pathlib import Path

import pytest
from icarflex.contracts import load_contract, load_profile
from icarflex.scenarios.fakes import local_fakes
from icarflex.scenarios.model import load_scenarios
from icarflex.scenarios.runner import Runner, Targets

PROFILES = sorted((Path(__file__).resolve().parents[2] / "profiles").glob("*.yaml"))
CONTRACT = load_contract()


@pytest.mark.parametrize("profile", PROFILES, ids=[p.stem for p in PROFILES])
def test_every_example_profile_holds_when_the_target_serves_it(profile: Path) -> None:
    expected = load_profile(profile)
    with local_fakes(str(profile)) as fakes, Runner(Targets(fakes.openflex_url, fakes.icar_url),
                                                    expected=expected) as runner:
        result = runner.run([w.id for w in CONTRACT.workflows])
    assert result.ok, [(s.id, s.error) for s in result.scenarios if not s.ok]
    assert not result.drift
    scenarios = load_scenarios(CONTRACT)
    for scenario in (s for s in result.scenarios if s.kind == "workflow"):
        premises = scenarios[scenario.workflow].premises()
        unmet = [row for premise in premises for section in premise.values() for row, value in section.items()
                 if expected[row] != (value["dms_modifiable"] if isinstance(value, dict) else value)]
        assert bool(scenario.skipped) == bool(unmet), (scenario.id, scenario.skipped)
        assert all(row in (scenario.skipped or "") for row in unmet)


def test_the_connector_leaves_out_the_mileage_a_profile_keeps_from_the_dms(tmp_path: Path) -> None:
    profile = tmp_path / "locked.yaml"
    profile.write_text("fields:\n  mileage: {dms_modifiable: false}\n", encoding="utf-8")
    with local_fakes(str(profile)) as fakes, Runner(Targets(fakes.openflex_url, fakes.icar_url),
                                                    expected=load_profile(profile), negative=False) as runner:
        assert runner.run(["marchand"]).ok
        pushes = runner.icar.request("GET", "/api/v1/sync-log", record=False).body["items"]
    entries = [p for p in pushes if p["method"] == "PATCH" and "police_number" in (p["body"] or {})]
    assert entries and all("mileage" not in p["body"] for p in entries)
    assert all(p["outcome"] == "OK" for p in entries)
