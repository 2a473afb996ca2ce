"""Setup mistakes are named as such before any contract verdict: exit 2 and one line each.
So is an upstream 5xx during a step (status and body), never reported as broken rules."""
from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest
import requests
from icarflex.scenarios.cli import main
from icarflex.scenarios.fakes import LocalFakes, local_fakes

Capture = pytest.CaptureFixture[str]
ADMIN = {"Authorization": "Bearer demo-admin-key"}


@pytest.fixture(scope="module")
def fakes() -> Iterator[LocalFakes]:
    with local_fakes() as started:
        yield started


@pytest.fixture
def not_icarflex() -> Iterator[str]:
    """A web server that answers HTML to everything (not an API of ours)."""
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            body = b"<html>hello</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def one_line_exit_2(argv: list[str], capsys: Capture) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "CONFORME" not in captured.out and "R6" not in captured.out  # no verdict was given
    return lines[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_swapped_urls(fakes: LocalFakes, capsys: Capture) -> None:
    line = one_line_exit_2(["run", "casse", "--openflex-url", fakes.icar_url,
                            "--icar-url", fakes.openflex_url], capsys)
    assert "inversées" in line and fakes.icar_url in line


def test_the_same_fake_twice(fakes: LocalFakes, capsys: Capture) -> None:
    line = one_line_exit_2(["run", "casse", "--openflex-url", fakes.openflex_url, "--icar-url",
                            fakes.openflex_url], capsys)
    assert line.endswith(f"--icar-url {fakes.openflex_url} est le fake OpenFlex, pas ICAR")


def test_url_without_scheme(fakes: LocalFakes, capsys: Capture) -> None:
    bare = fakes.openflex_url.removeprefix("http://")
    line = one_line_exit_2(["run", "casse", "--openflex-url", bare, "--icar-url", fakes.icar_url], capsys)
    assert "URL sans schéma" in line and f"http://{bare}" in line


def test_nothing_listening(fakes: LocalFakes, capsys: Capture) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    line = one_line_exit_2(["verify", "--openflex-url", fakes.openflex_url, "--icar-url", nowhere], capsys)
    assert line.startswith(f"icarflex : rien n'écoute sur {nowhere} (--icar-url)")


def test_not_an_icarflex_api(fakes: LocalFakes, not_icarflex: str, capsys: Capture) -> None:
    line = one_line_exit_2(["run", "casse", "--openflex-url", not_icarflex, "--icar-url", fakes.icar_url],
                           capsys)
    assert "ne ressemble pas à une API OpenFlex" in line and "text/html" in line


def test_refused_key(fakes: LocalFakes, capsys: Capture) -> None:
    urls = ["--openflex-url", fakes.openflex_url, "--icar-url", fakes.icar_url]
    line = one_line_exit_2(["run", "casse", *urls, "--key", "dms=not-a-key"], capsys)
    assert line == "icarflex : clé refusée par OpenFlex : not-a-key (dms) → 401 UNAUTHENTICATED"


def test_refused_admin_key_unless_no_audit(fakes: LocalFakes, capsys: Capture) -> None:
    urls = ["--openflex-url", fakes.openflex_url, "--icar-url", fakes.icar_url]
    line = one_line_exit_2(["run", "casse", *urls, "--admin-key", "wrong"], capsys)
    assert "--no-audit" in line and "clé admin wrong" in line
    assert main(["run", "casse", *urls, "--admin-key", "wrong", "--no-audit", "-q"]) == 0
    assert "journal OpenFlex indisponible" in capsys.readouterr().out


def test_busy_port(capsys: Capture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line_exit_2(["serve", "--openflex-port", str(port), "--icar-port", "0"], capsys)
    assert f"le port {port} (--openflex-port) est déjà utilisé" in line


def test_bad_flag_and_unknown_workflow(capsys: Capture) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["run", "casse", "--no-such-flag"])
    assert stopped.value.code == 2
    assert "arguments inconnus : --no-such-flag" in capsys.readouterr().err
    assert one_line_exit_2(["run", "nowhere"], capsys).startswith("icarflex : parcours inconnu 'nowhere'")


def test_an_upstream_503_is_shown_with_status_and_body_not_as_broken_rules(
        fakes: LocalFakes, capsys: Capture) -> None:
    # Every PATCH of the OpenFlex API answers 503: the first one is the DMS physical entry, through ICAR.
    faults = {"error_rate": 1.0, "error_status": 503, "methods": ["PATCH"], "paths": "^/api/v1/vehicles/"}
    assert requests.put(f"{fakes.openflex_url}/__admin/faults", json=faults, headers=ADMIN, timeout=10).ok
    try:
        code = main(["run", "marchand", "--openflex-url", fakes.openflex_url, "--icar-url", fakes.icar_url,
                     "--no-negative", "-q"])
    finally:
        requests.put(f"{fakes.openflex_url}/__admin/faults", json={}, headers=ADMIN, timeout=10)
    captured = capsys.readouterr()
    assert code == 2
    assert "ICAR a répondu 504 à POST /api/v1/vehicles/" in captured.err and "503" in captured.err
    assert "✗R3" not in captured.out and "statut OpenFlex : None" not in captured.out
    assert "SANS VERDICT" in captured.out and "NON CONFORME" not in captured.out


def test_local_run_with_a_refused_admin_key_fails_unless_no_audit(capsys: Capture) -> None:
    line = one_line_exit_2(["run", "casse", "--admin-key", "wrong"], capsys)
    assert "journal OpenFlex illisible" in line and "--no-audit" in line
    assert main(["run", "casse", "--admin-key", "wrong", "--no-audit", "-q"]) == 0


def test_a_timeout_during_a_step_names_the_system_and_the_step(fakes: LocalFakes, capsys: Capture,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("icarflex.scenarios.clients.TIMEOUT", 0.5)
    slow = {"latency_ms": 2000, "methods": ["POST"], "paths": "^/api/v1/opportunities"}
    assert requests.put(f"{fakes.openflex_url}/__admin/faults", json=slow, headers=ADMIN, timeout=10).ok
    try:
        line = one_line_exit_2(["run", "marchand", "--openflex-url", fakes.openflex_url,
                                "--icar-url", fakes.icar_url, "-q"], capsys)
    finally:
        requests.put(f"{fakes.openflex_url}/__admin/faults", json={}, headers=ADMIN, timeout=10)
    assert line.startswith(f"icarflex : cible injoignable pendant le rejeu : openflex {fakes.openflex_url}")
    assert line.endswith("pendant l'étape marchand/estimate")
