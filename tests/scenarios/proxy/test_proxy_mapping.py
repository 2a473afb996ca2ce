"""A target with other wire names: the mapping (data) says which, the journal is in the fakes' names."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.openflex.app import create_app as create_openflex
from icarflex.scenarios.cli import main
from icarflex.scenarios.proxy.mapping import MappingError, WireMapping, load_mapping
from proxy_helpers import NEW_VEHICLE, key, proxy_journal

MAPPING = """\
prefix: /vo-api/v2
paths:
  vehicles: /vo
  vehicle: /vo/{vehicle_id}
fields:
  vin: chassis
"""


def foreign(app: Any) -> Any:
    """The OpenFlex fake under other names: /vo-api/v2/vo/{id}, `chassis` for `vin` (a stand-in
    for a real OpenFlex whose wire differs from the fakes')."""
    def rename(data: bytes, old: str, new: str) -> bytes:
        return re.sub(rb'"%s"\s*:' % old.encode(), b'"%s":' % new.encode(), data)

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ["PATH_INFO"]
        path = re.sub(r"^/vo-api/v2/vo(?=/|$)", "/api/v1/vehicles", path)
        environ["PATH_INFO"] = re.sub(r"^/vo-api/v2", "/api/v1", path)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            body = rename(environ["wsgi.input"].read(length), "chassis", "vin")
            environ["CONTENT_LENGTH"] = str(len(body))
            environ["wsgi.input"] = io.BytesIO(body)
        captured: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured.update(status=status, headers=headers)
        answer = rename(b"".join(app(environ, keep)), "vin", "chassis")
        headers = [(k, str(len(answer)) if k.lower() == "content-length" else v)
                   for k, v in captured["headers"]]
        start_response(captured["status"], headers)
        return [answer]
    return wsgi


def test_a_target_with_other_names_is_judged_and_journaled_in_the_fakes_names(start_proxy, servers,
                                                                               tmp_path: Path):
    target = servers.enter_context(LiveServer(foreign(create_openflex())))
    mapping = tmp_path / "wire.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    proxy = start_proxy(target.url, mapping=str(mapping))
    wire_vehicle = {("chassis" if k == "vin" else k): v for k, v in NEW_VEHICLE.items()}
    created = requests.post(f"{proxy.url}/vo-api/v2/vo", json=wire_vehicle, headers=key("openflex"),
                            timeout=10)
    assert created.status_code == 201 and created.json()["chassis"] == NEW_VEHICLE["vin"]
    vehicle_id = created.json()["id"]

    reply = requests.patch(f"{proxy.url}/vo-api/v2/vo/{vehicle_id}", json={"chassis": "VF1RFB00X87654321"},
                           headers=key("dms"), timeout=10)

    assert reply.status_code == 403  # the target's own refusal, relayed
    entry = proxy_journal(proxy)[-1]
    assert entry["path"] == f"/api/v1/vehicles/{vehicle_id}"
    assert entry["wire_path"] == f"/vo-api/v2/vo/{vehicle_id}"
    assert entry["request"] == {"vin": "VF1RFB00X87654321"}
    assert entry["vehicle_before"]["vin"] == NEW_VEHICLE["vin"]  # read under the target's path, renamed
    assert [(a["kind"], a["rule"], a["field"]) for a in entry["audit"]] == [("attempt", "R6", "vin")]
    assert main(["check", proxy.options.journal]) == 0


def test_the_default_mapping_is_the_fakes_own_names():
    mapping = WireMapping()
    assert mapping.identity and mapping.contract_path("/api/v1/vehicles/V1") == "/api/v1/vehicles/V1"
    assert mapping.to_contract({"vin": "x"}) == {"vin": "x"}


@pytest.mark.parametrize("text, named", [
    ("paths: {car: /car}", "paths.car"),
    ('paths: {vehicle: "/vo/{id}"}', "paths.vehicle"),
    ("fields: {chassis: vin}", "fields.chassis"),
    ("prefix: api", "prefix"),
    ("routes: {}", "routes"),
])
def test_a_mapping_that_does_not_fit_is_refused_naming_the_key(text, named, tmp_path: Path, capsys):
    path = tmp_path / "wire.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=re.escape(named)):
        load_mapping(path)
    assert main(["proxy", "--target", "http://127.0.0.1:1", "--mapping", str(path)]) == 2
    assert named in capsys.readouterr().err


def test_json_of_a_page_is_renamed_item_by_item():
    mapping = WireMapping(fields={"vin": "chassis"})
    page = json.loads('{"items": [{"chassis": "A"}, {"chassis": "B"}], "next_cursor": null}')
    assert mapping.to_contract(page)["items"] == [{"vin": "A"}, {"vin": "B"}]
