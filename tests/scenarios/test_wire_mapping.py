"""The wire as data: `verify` against an OpenFlex that answers under other paths and other JSON
names (the OpenFlex fake behind a renaming layer, a stand-in for a real sandbox whose wire
differs from the fakes'), with the ICAR connector (`OPENFLEX_MAPPING`) and the runner
(`--mapping`) reading one mapping file — no code change."""
from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.common.wire import load_mapping
from icarflex.mocks.icar.app import create_app as create_icar
from icarflex.mocks.openflex.app import create_app as create_openflex
from icarflex.scenarios.cli import main

MAPPING = """\
prefix: /vo-api/v2
paths:
  vehicles: /vo
  vehicle: /vo/{vehicle_id}
  reservations: /vo/{vehicle_id}/reservations
  reservation: /vo/{vehicle_id}/reservations/{reservation_id}
  settings: /parametrage
fields:
  vin: chassis
  registration: immatriculation
"""
PATHS = [(r"^/vo-api/v2/parametrage", "/api/v1/settings/api-vo"),
         (r"^/vo-api/v2/vo(?=/|$)", "/api/v1/vehicles"), (r"^/vo-api/v2", "/api/v1")]
FIELDS = {"chassis": "vin", "immatriculation": "registration"}


def _rename(data: bytes, names: dict[str, str]) -> bytes:
    for old, new in names.items():
        data = re.sub(rb'"%s"(\s*):' % old.encode(), rb'"%s"\1:' % new.encode(), data)
    return data


def renamed(app: Any) -> Any:
    """The OpenFlex fake under the mapping's names only: its own /api/v1 paths answer 404."""
    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ["PATH_INFO"]
        if path.startswith("/api/"):
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"code": "NOT_FOUND"}']
        wire = path.startswith("/vo-api/")
        for pattern, fake in PATHS:
            path = re.sub(pattern, fake, path, count=1)
        environ["PATH_INFO"] = path
        query = environ.get("QUERY_STRING", "")
        for old, new in FIELDS.items():
            query = re.sub(rf"(^|&){old}=", rf"\1{new}=", query)
        environ["QUERY_STRING"] = query
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            body = _rename(environ["wsgi.input"].read(length), FIELDS)
            environ["CONTENT_LENGTH"], environ["wsgi.input"] = str(len(body)), io.BytesIO(body)
        captured: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured.update(status=status, headers=headers)
        answer = b"".join(app(environ, keep))
        if wire:
            answer = _rename(answer, {new: old for old, new in FIELDS.items()})
        headers = [(k, str(len(answer)) if k.lower() == "content-length" else v)
                   for k, v in captured["headers"]]
        start_response(captured["status"], headers)
        return [answer]
    return wsgi


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    mapping = tmp_path / "wire.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    openflex = LiveServer(renamed(create_openflex({"DB": str(tmp_path / "openflex.sqlite3")})))
    with openflex:
        icar = create_icar({"DB": str(tmp_path / "icar.sqlite3"), "OPENFLEX_URL": openflex.url,
                            "OPENFLEX_MAPPING": str(mapping)})
        with LiveServer(icar) as icar_server:
            yield openflex.url, icar_server.url, mapping


def test_verify_runs_green_through_a_mapping_against_renamed_paths_and_fields(sandbox, capsys):
    openflex_url, icar_url, mapping = sandbox
    code = main(["verify", "--openflex-url", openflex_url, "--icar-url", icar_url, "--mapping", str(mapping),
                 "-q"])
    assert code == 0, capsys.readouterr().out[-3000:]


def test_without_the_mapping_the_same_target_fails(sandbox, capsys):
    """The mapping, not some leniency of the target, is what makes the run above green."""
    openflex_url, icar_url, _ = sandbox
    assert main(["verify", "--openflex-url", openflex_url, "--icar-url", icar_url, "-q"]) != 0


def test_the_default_mapping_is_the_fakes_own_wire():
    mapping = load_mapping(None)
    assert mapping.identity and mapping.wire_path("vehicle", vehicle_id="V1") == "/api/v1/vehicles/V1"
    assert mapping.to_wire({"vin": "X"}) == {"vin": "X"}


def test_a_mapping_is_applied_both_ways(tmp_path: Path):
    path = tmp_path / "wire.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.wire_path("settings") == "/vo-api/v2/parametrage"
    assert mapping.to_wire({"vin": "A", "mileage": 1}) == {"chassis": "A", "mileage": 1}
    assert mapping.to_contract({"items": [{"immatriculation": "AB-123-CD"}]}) == {
        "items": [{"registration": "AB-123-CD"}]}


def test_a_bad_mapping_is_a_one_line_usage_error(tmp_path: Path, capsys):
    path = tmp_path / "wire.yaml"
    path.write_text("fields: {chassis: vin}\n", encoding="utf-8")
    assert main(["verify", "--openflex-url", "http://127.0.0.1:9", "--icar-url", "http://127.0.0.1:9",
                 "--mapping", str(path)]) == 2
    err = capsys.readouterr().err
    assert "fields.chassis" in err and len(err.strip().splitlines()) == 1
