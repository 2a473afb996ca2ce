"""« Sortie des véhicules en statut livraison » at NON, end to end (our reading, docs/decisions.md):
`icarflex serve --profile exit-in-openflex` with `icarflex run all --profile exit-in-openflex`
replays the workflow that exits in OpenFlex green and reports the others not applicable, naming
the row; under the guide's defaults that workflow is the one not applicable. The checker accepts
ICAR invoiced beside OpenFlex delivered along a journal under NON, and flags a journal that ends so
(the exit never made in OpenFlex)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from icarflex.contracts import load_contract, load_profile
from icarflex.mocks.icar.lifecycle import lifecycle
from icarflex.profiles import path_of
from icarflex.scenarios.checker import STATUS_MISMATCH, check_journal
from icarflex.scenarios.cli import main
from icarflex.scenarios.fakes import local_fakes
from icarflex.scenarios.model import load_scenarios
from icarflex.scenarios.runner import Runner, Targets
from serving import start_serve

PROFILE = "exit-in-openflex"
CONTRACT = load_contract()
LIFE = lifecycle(CONTRACT)
ROW = LIFE.exit_gate
AT_NON, DEFAULTS = load_profile(path_of(PROFILE)), load_profile(None)
SCENARIOS = load_scenarios(CONTRACT)


def premise(workflow: str) -> bool | None:
    """The value of the row a workflow's premises (its own `when`, its steps') need, if they name it."""
    values = [(p.get("capabilities") or {}).get(ROW) for p in SCENARIOS[workflow].premises()]
    return next((v for v in values if v is not None), None)


# The workflows that apply only where the row is NON: the one replaying that path.
AT_NON_ONLY = [w for w in SCENARIOS if premise(w) is False]
ADMIN = {"Authorization": "Bearer demo-admin-key"}


def test_the_profile_turns_the_row_off() -> None:
    assert AT_NON[ROW] is False and DEFAULTS[ROW] is True
    assert AT_NON_ONLY


def test_serve_and_run_all_under_the_profile_replay_the_exit_in_openflex_green(
        tmp_path: Path, capsys) -> None:  # noqa: ANN001
    served = start_serve(str(tmp_path / "s.sqlite3"), "--profile", PROFILE, "--quiet")
    try:
        urls = ["--openflex-url", served.urls["OpenFlex"], "--icar-url", served.urls["ICAR"]]
        assert main(["run", "all", *urls, "--profile", PROFILE]) == 0
        out = capsys.readouterr().out
        # Against the same target, expecting the guide's defaults: the row is drift (exit 1).
        assert main(["run", AT_NON_ONLY[0], *urls, "-q"]) == 1
        assert ROW in capsys.readouterr().out
    finally:
        served.stop()
    skipped = [line for line in out.splitlines() if "non applicable" in line]
    others = [w for w in SCENARIOS if premise(w) is True]
    assert others and all(any(w in line and ROW in line for line in skipped) for w in others)
    assert not any(w in line for w in AT_NON_ONLY for line in skipped)


def test_under_the_guides_defaults_the_workflow_is_not_applicable_naming_the_row(capsys) -> None:  # noqa: ANN001
    assert main(["run", AT_NON_ONLY[0], "-q"]) == 0
    out = capsys.readouterr().out
    assert any("non applicable" in line and ROW in line and AT_NON_ONLY[0] in line
               for line in out.splitlines())


# --- the checker: the gap along a journal, and at its end -----------------------------------
def replayed_journal() -> list[dict[str, Any]]:
    """Both fakes' journals of the workflow exiting in OpenFlex, replayed under the profile."""
    path = path_of(PROFILE)
    with local_fakes(path) as fakes, Runner(Targets(fakes.openflex_url, fakes.icar_url),
                                            expected=AT_NON, negative=False) as runner:
        assert runner.run(AT_NON_ONLY).ok
        params = {"format": "jsonl", "limit": 100_000}
        lines = "".join(requests.get(f"{url}/__admin/journal", params=params, headers=ADMIN, timeout=10).text
                        for url in (fakes.openflex_url, fakes.icar_url))
    return [json.loads(line) for line in lines.splitlines() if line.strip()]


def before_the_exit(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The journal cut just before the OpenFlex user's exit: ICAR invoiced, OpenFlex delivered."""
    exit_ = next(e for e in entries if e.get("system") == "openflex" and e["method"] == "PATCH"
                 and (e.get("request") or {}).get("status") == LIFE.exit)
    return [e for e in entries if (e.get("at") or "") < exit_["at"]]


def mismatches(entries: list[dict[str, Any]], settings) -> list:  # noqa: ANN001
    return [f for f in check_journal(entries, settings) if f.kind == STATUS_MISMATCH]


def test_the_checker_accepts_the_gap_along_the_journal_and_flags_a_journal_ending_with_it(tmp_path: Path,
                                                                                          capsys) -> None:  # noqa: ANN001
    entries = replayed_journal()
    assert mismatches(entries, AT_NON) == []
    cut = before_the_exit(entries)
    (ending,) = mismatches(cut, AT_NON)
    pending = CONTRACT.pending_mapping(LIFE.delivered, LIFE.invoiced, AT_NON)
    assert pending is not None and pending.reason in ending.message and "fin de journal" in ending.message
    assert (ending.rule, ending.field, ending.failing) == (CONTRACT.rule_for("status_mapping"), "status",
                                                           True)
    # Under the guide's defaults the same gap is ICAR ahead of OpenFlex, along the journal too.
    assert any("fin de journal" not in f.message for f in mismatches(cut, DEFAULTS))
    journal = tmp_path / "cut.jsonl"
    journal.write_text("".join(json.dumps(e) + "\n" for e in cut), encoding="utf-8")
    assert main(["check", str(journal), "--profile", PROFILE]) == 1
    assert pending.reason in capsys.readouterr().out
