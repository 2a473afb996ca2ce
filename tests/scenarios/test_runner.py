"""The runner replays every workflow green against the fakes, catches every negative twin, and fails,
naming the row, against servers whose parameterization flips a row the workflows rely on."""
from __future__ import annotations

from pathlib import Path

import pytest
from icarflex.contracts import load_contract, load_profile
from icarflex.contracts.profile import parse_overlay
from icarflex.profiles import names, path_of
from icarflex.scenarios.cli import main
from icarflex.scenarios.fakes import local_fakes
from icarflex.scenarios.model import load_scenarios
from icarflex.scenarios.results import ATTEMPT, RunResult
from icarflex.scenarios.runner import Runner, Targets

CONTRACT = load_contract()
SCENARIOS = load_scenarios()
TWINS = [(scenario.id, twin) for scenario in SCENARIOS.values() for twin in scenario.twins]
SHIPPED = {name: load_profile(path_of(name)) for name in ["guide-defaults", *names()]}


def profile_for(*premises: dict | None) -> str:
    """The first shipped profile (the guide's defaults first) under which every premise holds:
    a workflow or twin is replayed where it applies."""
    wanted = [parse_overlay(CONTRACT, premise) for premise in premises if premise]
    return next(name for name, settings in SHIPPED.items()
                if all(settings[row] == value for rows in wanted for row, value in rows.items()))


def scenario(run: RunResult, scenario_id: str):  # noqa: ANN201
    return next(s for s in run.scenarios if s.id == scenario_id)


def test_the_whole_run_holds_against_the_fakes(full_run: RunResult) -> None:
    assert full_run.drift == []
    assert [c for c in full_run.final_checks if not c.ok] == []
    assert full_run.ok


@pytest.mark.parametrize("workflow", [w.id for w in CONTRACT.workflows])
def test_each_workflow_replays_green_with_both_statuses_at_every_step(run_under, workflow: str) -> None:  # noqa: ANN001
    profile = profile_for(*SCENARIOS[workflow].premises())
    result = scenario(run_under(profile), workflow)
    contract_steps = CONTRACT.workflow[workflow].steps
    assert result.ok, [(s.step, s.failures()) for s in result.steps if not s.ok]
    assert [s.step for s in result.steps] == [s.id for s in contract_steps]
    for step, expected in zip(result.steps, contract_steps, strict=True):
        assert step.openflex_status == expected.status
        if step.icar_status is not None:
            assert step.icar_status == CONTRACT.icar_status_after(expected)
        assert step.findings == [] or not any(f.failing for f in step.findings)
    if any(s.icar_status is not None for s in result.steps):  # an abandoned estimation never reaches ICAR
        assert result.steps[-1].icar_status == CONTRACT.icar_status_after(contract_steps[-1])


@pytest.mark.parametrize(("workflow", "twin"), TWINS, ids=[t.id for _, t in TWINS])
def test_each_negative_twin_is_refused_and_caught_by_the_checker(run_under, workflow: str,  # noqa: ANN001
                                                                 twin) -> None:  # noqa: ANN001
    premises = SCENARIOS[workflow].premises(until=twin.instead_of)
    result = scenario(run_under(profile_for(*premises, twin.when)), twin.id)
    assert result.ok, [(s.step, s.failures()) for s in result.steps if not s.ok]
    attempt = result.attempt
    assert attempt is not None and attempt.kind == ATTEMPT
    expected = twin.expect.refusal
    assert (attempt.refusal["status"], attempt.refusal["code"]) == (expected.status, expected.code)
    assert expected.rule in attempt.refusal["rule"]
    assert set(expected.fields) <= set(attempt.refusal["fields"])
    caught = {(f.rule, f.field) for f in attempt.findings if f.kind == "attempt"}
    assert {(v.rule, v.field) for v in twin.expect.violations if v.field} <= caught


def run_against(profile: Path, workflows: list[str], negative: bool = False) -> RunResult:
    with local_fakes(str(profile)) as fakes, Runner(Targets(fakes.openflex_url, fakes.icar_url),
                                                    negative=negative) as runner:
        return runner.run(workflows)


@pytest.mark.parametrize(("overlay", "row", "step", "code"), [
    ("fields:\n  police_number: {dms_modifiable: false}\n", "police_number", "physical_entry",
     "FIELD_NOT_MODIFIABLE"),
    # The connector follows the target's row: ICAR invoices without exiting, OpenFlex stays delivered.
    ("capabilities:\n  exit_from_delivery: false\n", "exit_from_delivery", "invoice", None),
])
def test_a_target_flipping_a_row_the_workflow_relies_on_fails_naming_the_row(
        tmp_path: Path, overlay: str, row: str, step: str, code: str) -> None:
    profile = tmp_path / "dealer.yaml"
    profile.write_text(overlay, encoding="utf-8")
    run = run_against(profile, ["marchand"])
    assert not run.ok
    assert [d.row for d in run.drift] == [row]
    failed = next(s for s in scenario(run, "marchand").steps if not s.ok)
    assert failed.step == step
    if code is not None:
        assert any(code in (call.code or "") for call in failed.calls)
    else:
        assert {c.name for c in failed.failures()} >= {"statut OpenFlex", "correspondance OpenFlex ↔ ICAR"}


def test_a_twin_whose_refusal_does_not_come_fails(tmp_path: Path) -> None:
    profile = tmp_path / "lax.yaml"
    profile.write_text("capabilities:\n  create_vehicles: true\n", encoding="utf-8")
    run = run_against(profile, ["achat_direct"], negative=True)
    twin = scenario(run, "dms_creates_vehicle")
    assert not twin.ok
    refusal = next(c for c in twin.attempt.checks if c.name == "refus attendu")
    assert not refusal.ok and "accepté" in refusal.detail
    assert [d.row for d in run.drift] == ["create_vehicles"]


def test_without_the_admin_key_twins_that_flip_a_setting_are_skipped_named(fakes) -> None:  # noqa: ANN001
    keys = {**Targets(fakes.openflex_url, fakes.icar_url).keys, "admin": "not-a-key"}
    with Runner(Targets(fakes.openflex_url, fakes.icar_url, keys)) as runner:
        run = runner.run(["casse"])
    assert not any("remise à zéro" in note for note in run.notes)
    assert scenario(run, "casse").ok
    skipped = scenario(run, "scrap_invoice_price_locked").skipped or ""
    assert "concessionnaire de travail" in skipped and "clé admin" in skipped
    assert run.ok


def test_run_command_exit_codes(capsys) -> None:  # noqa: ANN001
    assert main(["run", "casse", "-q"]) == 0
    assert "CONFORME" in capsys.readouterr().out
    assert main(["run", "nowhere"]) == 2
    assert main(["run", "casse", "--openflex-url", "http://127.0.0.1:9"]) == 2


def test_run_against_named_servers_replays_twice(capsys) -> None:  # noqa: ANN001
    with local_fakes() as fakes:
        urls = ["--openflex-url", fakes.openflex_url, "--icar-url", fakes.icar_url]
        assert main(["run", "marchand", *urls, "-q"]) == 0
        assert main(["run", "marchand", *urls, "-q"]) == 0
        assert main(["verify", *urls, "-q"]) == 0
    assert "R5" in capsys.readouterr().out


def test_a_twin_relies_only_on_the_premises_up_to_its_step(run_under) -> None:  # noqa: ANN001
    """Under exit-in-openflex the retail workflow is not applicable (it exits through ICAR), but
    its twins played before the invoice are: they never reach the step that needs the row."""
    run = run_under("exit-in-openflex")
    workflow = SCENARIOS["particulier"]
    assert "exit_from_delivery" in (scenario(run, "particulier").skipped or "")
    invoice = workflow.step_index["invoice"]
    early = [t for t in workflow.twins if workflow.step_index[t.instead_of] < invoice and not t.when]
    late = [t for t in workflow.twins if workflow.step_index[t.instead_of] >= invoice]
    assert early and late
    for twin in early:
        played = scenario(run, twin.id)
        assert not played.skipped and played.ok, (twin.id, played.skipped)
    assert all("exit_from_delivery" in (scenario(run, t.id).skipped or "") for t in late)
