"""The whole replay (workflows and negative twins) through the proxy in front of the OpenFlex fake:
the proxy's verdicts are the fake's own, call by call, and `check` says the same of both journals."""
from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from typing import Any

import requests
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.icar.app import create_app as create_icar
from icarflex.scenarios.checker import check_journal
from icarflex.scenarios.cli import main
from proxy_helpers import proxy_journal, target_journal


def _verdicts(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each business write with who made it, its answer and the rules the contract found broken."""
    return [(e["actor"], e["method"], e["path"], e["status"],
             sorted((v["code"], v["rule"], v["field"]) for v in e["verdict"]))
            for e in entries if e["path"].startswith("/api/") and e["method"] != "GET"]


def _findings(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What `check` finds, in any order (the fake's journal answers its bodies' keys sorted)."""
    return sorted(((f.kind, f.rule, f.field, f.code, f.actor, f.method, f.path, f.status)
                  for f in check_journal(entries)), key=repr)


def test_replay_through_the_proxy_gives_the_fakes_verdicts(start_openflex, start_proxy, servers, capsys):
    openflex = start_openflex()
    proxy = start_proxy(openflex.url)
    icar = servers.enter_context(LiveServer(create_icar({"OPENFLEX_URL": proxy.url})))  # its connector too

    status = main(["run", "all", "--openflex-url", proxy.url, "--icar-url", icar.url, "-q"])
    assert status == 0, capsys.readouterr().out

    fake, ours = target_journal(openflex.url), proxy_journal(proxy)
    writes = _verdicts(fake)
    assert len(writes) > 100 and any(verdict for *_, verdict in writes)  # the twins' refusals are there
    assert _verdicts(ours) == writes
    assert all(e["answered_by"] == "target" for e in ours)
    assert _findings(ours) == _findings(fake)
    assert any(kind == "attempt" for kind, *_ in _findings(ours))


def test_check_says_the_same_of_the_proxy_journal_and_the_fakes(start_openflex, start_proxy, servers,
                                                                  tmp_path, capsys):
    openflex = start_openflex()
    proxy = start_proxy(openflex.url)
    icar = servers.enter_context(LiveServer(create_icar({"OPENFLEX_URL": proxy.url})))
    assert main(["run", "casse", "--openflex-url", proxy.url, "--icar-url", icar.url, "-q"]) == 0
    fake_file = tmp_path / "fake.jsonl"
    fake_file.write_text("".join(json.dumps(e) + "\n" for e in target_journal(openflex.url)))
    capsys.readouterr()

    def check(path: str) -> tuple[int, list[str]]:
        out = io.StringIO()
        with redirect_stdout(out):
            code = main(["check", path])
        return code, [line for line in out.getvalue().splitlines() if "entrée(s)" not in line]

    ours, theirs = check(proxy.options.journal), check(str(fake_file))
    assert ours[0] == theirs[0] == 0
    strip_seq = [line.split(" (seq")[0] for line in ours[1]]
    assert strip_seq == [line.split(" (seq")[0] for line in theirs[1]] and strip_seq


def test_proxies_in_front_of_both_systems_give_a_journal_check_audits_across_them(
        start_openflex, start_proxy, servers, tmp_path, capsys):
    openflex = start_openflex()
    openflex_proxy = start_proxy(openflex.url, journal=str(tmp_path / "openflex.jsonl"))
    icar = servers.enter_context(LiveServer(create_icar({"OPENFLEX_URL": openflex_proxy.url})))
    icar_proxy = start_proxy(icar.url, system="icar", enforce=True, journal=str(tmp_path / "icar.jsonl"))

    assert main(["run", "particulier", "--openflex-url", openflex_proxy.url, "--icar-url", icar_proxy.url,
                 "-q", "--no-negative"]) == 0, capsys.readouterr().out
    # ICAR's own API is not the OpenFlex API VO: nothing judged per call, nothing blocked
    reply = requests.patch(f"{icar_proxy.url}/api/v1/vehicles/ICAR-404", json={"police_number": "X-1"},
                           headers={"Authorization": "Bearer demo-icar-key"}, timeout=10)
    assert reply.status_code == 404 and reply.json()["code"] == "NOT_FOUND"  # ICAR's own answer
    both = tmp_path / "both.jsonl"
    both.write_text((tmp_path / "openflex.jsonl").read_text() + (tmp_path / "icar.jsonl").read_text())
    icar_entries = [json.loads(line) for line in (tmp_path / "icar.jsonl").read_text().splitlines()]
    capsys.readouterr()

    assert {e["system"] for e in icar_entries} == {"icar"}
    assert not any(e["vehicle_before"] or e["verdict"] or e["judged"] for e in icar_entries)
    assert any(e["method"] == "POST" and e["actor"] == "icar_user" for e in icar_entries)
    assert any(isinstance(e["response"], dict) and e["response"].get("openflex_id") for e in icar_entries)
    assert main(["check", str(both)]) == 0  # ICAR's statuses never ahead of, nor behind, OpenFlex's
