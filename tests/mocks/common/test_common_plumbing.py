"""The shared plumbing on a minimal fake: JSON body parsing (NaN refused), media types in
OpenAPI, one component per model name, the journal on bodies it cannot read and written off the
request's path, annotate outside a request, and /__admin/settings/<dealer> only for backends that
keep settings."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from icarflex.mocks.common.api import Api
from icarflex.mocks.common.app import build_app
from icarflex.mocks.common.journal import annotate
from pydantic import BaseModel, ConfigDict

KEYS = {"k": {"actor": "user", "dealer": "d"}, "a": {"actor": "admin", "dealer": "d"}}


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: float


class Backend:
    def __init__(self) -> None:
        self.settings: dict[str, Any] = {}

    def reset(self) -> None:
        self.settings.clear()

    def seed(self, dealer: str, count: int, seed: int | None) -> dict[str, Any]:
        return {"dealer": dealer}

    def health(self) -> dict[str, Any]:
        return {}


class SettingsBackend(Backend):
    def get_settings(self, dealer: str) -> dict[str, Any]:
        return self.settings.get(dealer, {})

    def put_settings(self, dealer: str, overlay: dict[str, Any]) -> dict[str, Any]:
        self.settings[dealer] = overlay
        return overlay


def make_app(tmp_path: Path, backend: type[Backend] = Backend, limit: int = 1024) -> Flask:
    api = Api("dummy", "Dummy", "A fake for the plumbing tests")

    @api.operation("POST", "/things", summary="create", body=Thing, response=Thing, status=201,
                   content_types=("application/merge-patch+json", "application/json"))
    def create_thing(who: Any, body: Thing) -> Any:
        annotate(vehicle_id="T-1")
        return body

    return build_app("dummy", api, lambda app, store: backend(), defaults={"KEYS": KEYS},
                     config={"DB": str(tmp_path / "db.sqlite3"), "TESTING": True,
                             "MAX_CONTENT_LENGTH": limit})


AUTH = {"Authorization": "Bearer k", "Content-Type": "application/json"}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(tmp_path: Path, constant: str):
    reply = make_app(tmp_path).test_client().post("/api/v1/things", data=f'{{"size": {constant}}}',
                                                  headers=AUTH)
    assert (reply.status_code, reply.json["code"], reply.json["fields"]) == (400, "VALIDATION_ERROR",
                                                                             ["(body)"])


def test_an_operation_publishes_its_body_media_types(tmp_path: Path):
    document = make_app(tmp_path).test_client().get("/openapi.json").json
    content = document["paths"]["/api/v1/things"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/merge-patch+json", "application/json"}


def test_two_models_of_one_name_are_refused(tmp_path: Path):
    api = Api("clash", "Clash", "two models named Thing")
    other = type("Thing", (BaseModel,), {"__annotations__": {"name": str}})
    api.operation("POST", "/a", summary="a", body=Thing)(lambda who, body: None)
    api.operation("POST", "/b", summary="b", body=other)(lambda who, body: None)
    with pytest.raises(ValueError, match="Thing"):
        api.document()


def test_the_journal_records_a_body_too_large_without_failing(tmp_path: Path):
    app = make_app(tmp_path, limit=64)
    client = app.test_client()
    reply = client.post("/api/v1/things", data='{"size": 1, "pad": "' + "x" * 200 + '"}', headers=AUTH)
    assert (reply.status_code, reply.json["code"]) == (413, "PAYLOAD_TOO_LARGE")
    entry = client.get("/__admin/journal", headers={"Authorization": "Bearer a"}).json["items"][-1]
    assert entry["status"] == 413 and "trop volumineux" in entry["request"]["_raw"]


def test_the_journal_keeps_binary_bodies_as_text_and_annotations(tmp_path: Path):
    client = make_app(tmp_path).test_client()
    client.post("/api/v1/things", data=b"\xff\xfe", headers=AUTH)
    client.post("/api/v1/things", json={"size": 2}, headers={"Authorization": "Bearer k"})
    binary, created = client.get("/__admin/journal", headers={"Authorization": "Bearer a"}).json["items"]
    assert binary["status"] == 400 and binary["request"] == {"_raw": "\ufffd\ufffd"}
    assert (created["status"], created["vehicle_id"], created["request"]) == (201, "T-1", {"size": 2})


def test_annotate_outside_a_request_does_nothing():
    annotate(vehicle_id="nowhere")


def test_admin_settings_need_a_backend_that_keeps_them(tmp_path: Path):
    admin = {"Authorization": "Bearer a"}
    plain = make_app(tmp_path).test_client()
    assert plain.get("/__admin/settings/d", headers=admin).json["code"] == "NOT_FOUND"
    keeping = make_app(tmp_path, SettingsBackend).test_client()
    assert keeping.put("/__admin/settings/d2", json={"x": True}, headers=admin).json == {"x": True}
    assert keeping.get("/__admin/settings/d2", headers=admin).json == {"x": True}
    assert keeping.get("/__admin/settings/d2", headers={"Authorization": "Bearer k"}).status_code == 403


ADMIN = {"Authorization": "Bearer a"}


@pytest.mark.parametrize(("query", "field"), [
    ("after=99999999999999999999", "after"), ("after=abc", "after"), ("after=-1", "after"),
    ("limit=0", "limit"), ("limit=abc", "limit"), ("format=xml", "format"), ("stauts=1", "stauts")])
def test_a_bad_journal_query_is_a_problem_naming_the_parameter(tmp_path: Path, query: str, field: str):
    response = make_app(tmp_path).test_client().get(f"/__admin/journal?{query}", headers=ADMIN)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["fields"] == [field]


def test_a_fault_path_that_is_no_regex_is_refused_and_changes_nothing(tmp_path: Path):
    client = make_app(tmp_path).test_client()
    before = client.get("/__admin/faults", headers=ADMIN).json
    response = client.put("/__admin/faults", json={"paths": "(", "error_rate": 1}, headers=ADMIN)
    assert (response.status_code, response.json["fields"]) == (422, ["paths"])
    assert client.get("/__admin/faults", headers=ADMIN).json == before


@pytest.mark.parametrize("body", ['{"size": "\\ud800"}', '{"\\udc00": 1}', '{"size": ["\\ud83d"]}'])
def test_a_lone_surrogate_is_refused_and_the_journal_stays_readable(tmp_path: Path, body: str):
    client = make_app(tmp_path).test_client()
    response = client.post("/api/v1/things", data=body, headers=AUTH)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["fields"]
    for query in ("", "?format=jsonl"):
        assert client.get(f"/__admin/journal{query}", headers=ADMIN).status_code == 200


def test_every_journal_entry_is_committed_before_its_response(tmp_path: Path):
    """Another process (a worker, a second serve) reading the store sees each request answered."""
    client = make_app(tmp_path).test_client()
    for size in range(1, 5):
        client.post("/api/v1/things", json={"size": size}, headers=AUTH)
        with sqlite3.connect(tmp_path / "db.sqlite3") as conn:  # another connection than the fake's
            assert conn.execute("SELECT COUNT(*) FROM journal_dummy").fetchone()[0] == size
    read = client.get("/__admin/journal", headers=ADMIN).json["items"]
    assert [e["request"] for e in read] == [{"size": n} for n in range(1, 5)]
