"""Bad input and faults: an unreachable or slow target, a body the proxy cannot read, an https target."""
from __future__ import annotations

import io
import time
from contextlib import redirect_stdout

import pytest
import requests
import trustme
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.openflex.app import create_app as create_openflex
from icarflex.scenarios.cli import main
from proxy_helpers import ADMIN, NEW_VEHICLE, free_port, key, proxy_journal, target_journal, tls_server


def test_an_unreachable_target_is_a_502_naming_it_and_recorded(start_proxy):
    target = f"http://127.0.0.1:{free_port()}"
    proxy = start_proxy(target)

    reply = requests.get(f"{proxy.url}/api/v1/vehicles", headers=key("openflex"), timeout=10)

    assert reply.status_code == 502 and reply.headers["Content-Type"] == "application/problem+json"
    problem = reply.json()
    assert problem["code"] == "TARGET_UNREACHABLE" and problem["target"] == target
    assert target in problem["detail"] and problem["fields"] == ["target"]
    entry = proxy_journal(proxy)[-1]
    assert (entry["status"], entry["answered_by"], entry["response"]["code"]) == (502, "proxy",
                                                                                 "TARGET_UNREACHABLE")


def test_a_slow_target_gets_the_proxys_timeout_504_recorded(start_openflex, start_proxy):
    target = start_openflex()
    faults = {"latency_ms": 2000, "paths": "^/api/v1/vehicles", "count": 1}
    assert requests.put(f"{target.url}/__admin/faults", json=faults, headers=ADMIN, timeout=10).ok
    proxy = start_proxy(target.url, timeout=0.3)

    reply = requests.get(f"{proxy.url}/api/v1/vehicles", headers=key("openflex"), timeout=10)

    assert reply.status_code == 504 and reply.json()["code"] == "TARGET_TIMEOUT"
    assert reply.json()["timeout_s"] == 0.3
    entry = proxy_journal(proxy)[-1]
    assert (entry["status"], entry["answered_by"], entry["path"]) == (504, "proxy", "/api/v1/vehicles")
    assert entry["elapsed_ms"] < 1900


def test_a_body_it_cannot_read_is_forwarded_and_recorded_unjudged(start_openflex, start_proxy):
    target = start_openflex()
    proxy = start_proxy(target.url)
    created = requests.post(f"{proxy.url}/api/v1/vehicles", json=NEW_VEHICLE, headers=key("openflex"),
                            timeout=10)
    vehicle_id = created.json()["id"]

    reply = requests.patch(f"{proxy.url}/api/v1/vehicles/{vehicle_id}", data=b'{"vin": "VF1',
                           headers={**key("dms"), "Content-Type": "application/json"}, timeout=10)

    assert reply.status_code == 400  # the target's own answer
    seen = [e for e in target_journal(target.url) if e["method"] == "PATCH"]
    assert len(seen) == 1 and seen[0]["request"] == {"_raw": '{"vin": "VF1'}  # forwarded as sent
    entry = proxy_journal(proxy)[-1]
    assert entry["unjudged"].startswith("non jugé") and entry["request"] == {"_raw": '{"vin": "VF1'}
    assert [a["kind"] for a in entry["audit"]] == ["unjudged"]
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["check", proxy.options.journal]) == 0
    assert "unjudged" in out.getvalue() and "non jugé" in out.getvalue()


def test_an_https_target_is_verified_with_cacert(start_proxy, tmp_path):
    ca = trustme.CA()
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    with tls_server(create_openflex(), ca.issue_cert("127.0.0.1")) as target:
        trusted = start_proxy(target, cacert=str(cafile), journal=str(tmp_path / "trusted.jsonl"))
        untrusted = start_proxy(target, journal=str(tmp_path / "untrusted.jsonl"))

        created = requests.post(f"{trusted.url}/api/v1/vehicles", json=NEW_VEHICLE, headers=key("openflex"),
                                timeout=10)
        vehicle_id = created.json()["id"]
        forbidden = requests.patch(f"{trusted.url}/api/v1/vehicles/{vehicle_id}",
                                   json={"vin": "VF1RFB00X87654321"}, headers=key("dms"), timeout=10)
        refused = requests.get(f"{untrusted.url}/api/v1/vehicles", headers=key("openflex"), timeout=10)

    assert created.status_code == 201 and forbidden.status_code == 403
    entry = proxy_journal(trusted)[-1]
    assert entry["vehicle_before"]["id"] == vehicle_id  # read over https too
    assert [(a["kind"], a["rule"], a["field"]) for a in entry["audit"]] == [("attempt", "R6", "vin")]
    assert refused.status_code == 502 and "CERTIFICATE_VERIFY_FAILED" in refused.json()["detail"]


def stalling(environ, start_response):
    """A target that starts its answer, then falls silent longer than the proxy waits."""
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "1000")])
    yield b'{"items": ['
    time.sleep(1.5)
    yield b" " * 989


def test_a_target_falling_silent_mid_answer_is_cut_at_the_timeout_and_recorded(start_proxy, servers):
    target = servers.enter_context(LiveServer(stalling))
    proxy = start_proxy(target.url, timeout=0.3)

    with pytest.raises(requests.exceptions.RequestException):  # the answer cannot be whole: cut
        requests.get(f"{proxy.url}/api/v1/vehicles", headers=key("openflex"), timeout=10).json()

    entry = proxy_journal(proxy)[-1]
    assert entry["status"] == 200 and "interrompue" in entry["note"] and entry["elapsed_ms"] < 1400


def test_keys_come_from_a_keys_file_or_the_profile(start_openflex, start_proxy, tmp_path):
    target = start_openflex()
    keys = tmp_path / "keys.yaml"
    keys.write_text("demo-dms-key: {actor: dms, dealer: demo}\n", encoding="utf-8")
    profile = tmp_path / "profile.yaml"
    profile.write_text("keys:\n  demo-openflex-key: openflex_user\nsettings: {uc_price_editable: false}\n",
                       encoding="utf-8")
    by_file = start_proxy(target.url, keys=str(keys), journal=str(tmp_path / "a.jsonl"))
    by_profile = start_proxy(target.url, profile=str(profile), journal=str(tmp_path / "b.jsonl"))
    for proxy in (by_file, by_profile):
        for actor in ("dms", "openflex"):
            requests.get(f"{proxy.url}/api/v1/vehicles", headers=key(actor), timeout=10)

    assert [e["actor"] for e in proxy_journal(by_file)] == ["dms", None]
    assert [e["actor"] for e in proxy_journal(by_profile)] == [None, "openflex_user"]


@pytest.mark.parametrize("text, named", [
    ("demo-dms-key: {actor: pirate}", "unknown actor 'pirate'"),
    ("- demo-dms-key", "expected a mapping"),
])
def test_a_keys_file_that_does_not_fit_exits_2_naming_it(text, named, tmp_path, capsys):
    keys = tmp_path / "keys.yaml"
    keys.write_text(text, encoding="utf-8")
    assert main(["proxy", "--target", "http://127.0.0.1:1", "--keys", str(keys)]) == 2
    err = capsys.readouterr().err
    assert named in err and "keys.yaml" in err and len(err.splitlines()) == 1
