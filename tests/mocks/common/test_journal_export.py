"""The JSON-lines journal export streams every entry (5,000 here, past any page size) and
`icarflex check` audits them all; a bounded export says so in its last line, with the cursor."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from flask import Flask
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.openflex.app import create_app
from icarflex.scenarios.cli import main

ADMIN = {"Authorization": "Bearer demo-admin-key"}
DMS = {"Authorization": "Bearer demo-dms-key", "Content-Type": "application/merge-patch+json"}
VEHICLE = {"vin": "VF1RFB00X56789012", "registration": "AB-123-CD", "destination": "PARTICULIER",
           "origin": "PARTICULIER", "mileage": 42000, "first_registration_date": "2019-03-01",
           "purchase_source": "ACHAT_DIRECT", "trade_in_price": 5000}
WRITES = 4_999


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One vehicle and 4,999 DMS writes journaled (through the test client): a few accepted mileage
    updates, the rest refused attempts on the VIN (judged too, and nothing to commit: fast); then
    the same app served over HTTP for the export."""
    app: Flask = create_app({"DB": str(tmp_path_factory.mktemp("journal") / "o.sqlite3")})
    client = app.test_client()
    vehicle = client.post("/api/v1/vehicles", json=VEHICLE,
                          headers={"Authorization": "Bearer demo-openflex-key"})
    assert vehicle.status_code == 201
    path = f"/api/v1/vehicles/{vehicle.get_json()['id']}"
    for n in range(WRITES):
        if n % 250 == 0:
            assert client.patch(path, data=json.dumps({"mileage": 42001 + n}), headers=DMS).status_code == 200
        else:
            change = json.dumps({"vin": f"VF1RFB00X5{n:07d}"})
            assert client.patch(path, data=change, headers=DMS).status_code == 403
    with LiveServer(app, threads=4) as server:
        yield server.url


def lines(url: str, **params: object) -> list[dict]:
    reply = requests.get(f"{url}/__admin/journal", params={"format": "jsonl", **params}, headers=ADMIN,
                         timeout=60)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in reply.text.splitlines()]


def test_the_export_streams_every_entry(served: str) -> None:
    entries = lines(served)
    assert len(entries) == WRITES + 1
    assert [e["seq"] for e in entries] == sorted({e["seq"] for e in entries})


def test_check_audits_a_5000_entry_export_whole(served: str, tmp_path, capsys) -> None:  # noqa: ANN001
    journal = tmp_path / "journal.jsonl"
    journal.write_text("".join(json.dumps(e) + "\n" for e in lines(served)), encoding="utf-8")
    assert main(["check", str(journal)]) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("5000 entrée(s) auditée(s) : 5000 jugée(s)")


def test_a_bounded_export_ends_with_its_cursor_and_check_refuses_it(served: str, tmp_path, capsys) -> None:  # noqa: ANN001
    entries = lines(served, limit=10)
    assert len(entries) == 11
    cursor = entries[-1]["journal_cursor"]
    assert cursor == {"more": True, "next_after": entries[-2]["seq"]}
    assert len(lines(served, after=cursor["next_after"])) == WRITES + 1 - 10
    journal = tmp_path / "cut.jsonl"
    journal.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    assert main(["check", str(journal)]) == 2
    error = capsys.readouterr().err
    assert "export tronqué" in error and f"after={cursor['next_after']}" in error


def test_a_json_page_says_whether_more_remains(served: str) -> None:
    page = requests.get(f"{served}/__admin/journal", params={"limit": 100}, headers=ADMIN, timeout=30).json()
    assert len(page["items"]) == 100 and page["more"] is True
    rest = requests.get(f"{served}/__admin/journal", params={"after": page["next_after"], "limit": 100_000},
                        headers=ADMIN, timeout=30).json()
    assert len(rest["items"]) == WRITES + 1 - 100 and rest["more"] is False
