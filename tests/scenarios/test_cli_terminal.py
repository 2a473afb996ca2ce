"""The command line as a person meets it: `--version`, help in French without developer notes,
`check` that passes nothing it could not judge, colour only on a terminal, no broken-pipe
traceback, and `serve`'s one line per request (off with `--quiet`)."""
from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from icarflex.scenarios.cli import build_parser, main

Capture = pytest.CaptureFixture[str]
ICARFLEX = [sys.executable, "-m", "icarflex.scenarios.cli"]
VEHICLE_BEFORE = {"id": "VEH-1", "status": "ENTREE_PHYSIQUE", "vin": "VF1RFB00X56789012", "mileage": 1}


def entry(seq: int, actor: str | None, method: str, path: str, status: int, request: object = None) -> dict:
    return {"seq": seq, "at": f"2025-06-30T10:00:{seq:02d}.000+00:00", "system": "openflex", "dealer": "demo",
            "actor": actor, "method": method, "path": path, "request": request, "status": status,
            "response": None, "vehicle_before": VEHICLE_BEFORE, "vehicle_id": "VEH-1", "verdict": []}


def journal(tmp_path: Path, *entries: dict) -> str:
    path = tmp_path / "journal.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    return str(path)


def test_version(capsys: Capture) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert re.fullmatch(r"icarflex \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


@pytest.mark.parametrize("command", [None, "guide", "diff", "serve", "run", "demo", "check", "verify"])
def test_help_is_french_without_developer_notes(command: str | None, capsys: Capture) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"] if command else ["--help"])
    text = capsys.readouterr().out
    assert text.startswith("utilisation : icarflex")
    for english in ("usage:", "show this help", "argument parsing", "positional arguments", "default:"):
        assert english not in text


def test_verify_help_states_how_it_differs_from_run() -> None:
    verify = build_parser()._subparsers._group_actions[0].choices["verify"]  # type: ignore[union-attr]
    assert "run all" in verify.description and "obligatoires" in verify.description


def test_check_fails_an_empty_or_unreadable_journal(tmp_path: Path, capsys: Capture) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["check", str(empty)]) == 2
    assert "journal vide" in capsys.readouterr().err
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(entry(1, "dms", "GET", "/api/v1/vehicles", 200)) + "\n{not json\n")
    assert main(["check", str(broken)]) == 2
    assert "ligne 2 : pas du JSON" in capsys.readouterr().err


def test_check_fails_when_nothing_could_be_judged(tmp_path: Path, capsys: Capture) -> None:
    reads = journal(tmp_path, entry(1, "dms", "GET", "/api/v1/vehicles", 200),
                    entry(2, None, "PATCH", "/api/v1/vehicles/VEH-1", 200, {"mileage": 2}))
    assert main(["check", reads]) == 2
    captured = capsys.readouterr()
    assert "rien de jugeable" in captured.err
    assert "entrée sans acteur" in captured.out


def test_check_lists_every_entry_it_did_not_judge(tmp_path: Path, capsys: Capture) -> None:
    path = journal(tmp_path, entry(1, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200, {"mileage": 2}),
                   entry(2, None, "PATCH", "/api/v1/vehicles/VEH-1", 200, {"mileage": 3}),
                   entry(3, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 503, {"mileage": 4}),
                   {**entry(4, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200), "system": "crm"})
    assert main(["check", path]) == 0
    out = capsys.readouterr().out
    unjudged = [line for line in out.splitlines() if line.startswith("? ")]
    assert [re.search(r"\(seq (\d+)\)", line)[1] for line in unjudged] == ["2", "3", "4"]
    assert "réponse 503" in unjudged[1] and "système inconnu 'crm'" in unjudged[2]
    assert out.splitlines()[-1].startswith("4 entrée(s) auditée(s) : 1 jugée(s), 0 sans objet")
    assert "3 non jugée(s)" in out


def test_no_broken_pipe_traceback(tmp_path: Path) -> None:
    many = [entry(n, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 403, {"vin": f"VF1RFB00X5678{n:04d}"})
            for n in range(1, 3000)]
    path = journal(tmp_path, *many)
    done = subprocess.run(f"{' '.join(ICARFLEX)} check {path} | head -1", shell=True, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.startswith("· attempt R6 vin")
    assert "Traceback" not in done.stderr and "Broken pipe" not in done.stderr


def test_colour_on_a_terminal_only(tmp_path: Path) -> None:
    write = entry(1, "dms", "PATCH", "/api/v1/vehicles/VEH-1", 200, {"vin": "VF1RFB00X56780000"})
    path = journal(tmp_path, write)
    piped = subprocess.run([*ICARFLEX, "check", path], capture_output=True, text=True, timeout=60)
    assert piped.returncode == 1 and "✗ violation R6" in piped.stdout and "\x1b[" not in piped.stdout
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([*ICARFLEX, "check", path], stdout=follower, stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 1
    assert b"\x1b[31m" in seen and b"violation R6" in seen


def serve(*flags: str) -> tuple[subprocess.Popen, dict[str, str], list[str]]:
    proc = subprocess.Popen([*ICARFLEX, "serve", "--openflex-port", "0", "--icar-port", "0", "--threads", "2",
                             *flags], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "XDG_DATA_HOME": flags[-1]})
    urls: dict[str, str] = {}
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.append(line.rstrip("\n"))
            for system, url in re.findall(r"(OpenFlex|ICAR) fake\s*:\s*(http://127\.0\.0\.1:\d+)", line):
                urls[system] = url
            if len(urls) == 2:
                ready.set()
    threading.Thread(target=read, daemon=True).start()
    assert ready.wait(60), lines
    return proc, urls, lines


@pytest.mark.parametrize("quiet", [False, True])
def test_serve_logs_one_line_per_request_with_the_rules_of_a_refusal(tmp_path: Path, quiet: bool) -> None:
    proc, urls, lines = serve(*(["--quiet"] if quiet else []), "--db", str(tmp_path / "s.sqlite3"))
    try:
        base = urls["OpenFlex"]
        vehicle = requests.post(f"{base}/api/v1/vehicles", timeout=10, headers={
            "Authorization": "Bearer demo-openflex-key"}, json={
            "vin": "VF1RFB00X56789012", "registration": "AB-123-CD", "destination": "PARTICULIER",
            "origin": "PARTICULIER", "mileage": 42000, "first_registration_date": "2019-03-01",
            "purchase_source": "ACHAT_DIRECT", "trade_in_price": 5000}).json()
        refused = requests.patch(f"{base}/api/v1/vehicles/{vehicle['id']}", json={"vin": "VF1RFB00X56789099"},
                                 headers={"Authorization": "Bearer demo-dms-key"}, timeout=10)
        assert refused.status_code == 403
        requests.get(f"{urls['ICAR']}/api/v1/vehicles", headers={"Authorization": "Bearer x"}, timeout=10)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    log = [line for line in lines if re.match(r"\d\d:\d\d:\d\d\.\d{3} ", line)]
    if quiet:
        assert log == []
        return
    assert len(log) == 3, lines
    assert re.fullmatch(r"\S+ openflex POST /api/v1/vehicles openflex_user@demo 201", log[0])
    assert re.fullmatch(rf"\S+ openflex PATCH /api/v1/vehicles/{vehicle['id']} dms@demo 403 "
                        r"FIELD_NOT_MODIFIABLE R6", log[1])
    assert re.fullmatch(r"\S+ icar GET /api/v1/vehicles - 401 UNAUTHENTICATED", log[2])


def test_profile_by_the_name_of_a_shipped_one(capsys: Capture) -> None:
    assert main(["diff", "guide-defaults", "locked-mileage"]) == 1
    assert "mileage" in capsys.readouterr().out
    assert main(["run", "casse", "--profile", "no-low-prices", "-q"]) == 0
    assert main(["run", "casse", "--profile", "no-such-profile"]) == 2
    assert "no-such-profile" in capsys.readouterr().err
