"""The live line of each call: what the contract says of it, in the request log's shape."""
from __future__ import annotations

import io

import pytest
from icarflex.scenarios.checker import Finding
from icarflex.scenarios.proxy.live import LiveLog, describe

R7 = {"code": "PRICE_NOT_ALLOWED", "rule": "R7", "field": "price", "message": "Prix de vente ≤ 1 refusé"}
R6 = {"code": "FIELD_NOT_MODIFIABLE", "rule": "R6", "field": "vin", "message": "NON dans le paramétrage"}


def entry(**fields):
    base = {"system": "openflex", "actor": "dms", "dealer": "demo", "method": "PATCH",
            "path": "/api/v1/vehicles/V1", "query": None, "status": 200, "verdict": [], "judged": True,
            "answered_by": "target", "elapsed_ms": 1.25, "response": None}
    return {**base, **fields}


def finding(kind: str) -> Finding:
    return Finding(kind, "R6", "vin", "FIELD_NOT_MODIFIABLE", "NON dans le paramétrage", "dms")


@pytest.mark.parametrize("call, findings, says", [
    (entry(), [], "✓ conforme"),
    (entry(verdict=[R6]), [finding("violation")], "✗ VIOLATION laissée passer par la cible : R6 vin"),
    (entry(status=403, verdict=[R6]), [finding("attempt")], "· refusé par la cible, à bon droit : R6 vin"),
    (entry(status=403, verdict=[R6], answered_by="proxy"), [finding("attempt")], "⛔ BLOQUÉ par le proxy"),
    (entry(method="POST", path="/api/v1/opportunities/O1/order", verdict=[R7]), [],
     "✗ VIOLATION laissée passer par la cible : R7 price — Prix de vente ≤ 1 refusé"),
    (entry(status=422, verdict=[R7]), [], "· refusé par la cible, à bon droit : R7 price"),
    (entry(status=404, response={"code": "NOT_FOUND"}), [], "· refusé par la cible (NOT_FOUND), aucune"),
    (entry(unjudged="non jugé : corps illisible (pas du JSON)", judged=False), [], "? non jugé"),
    (entry(method="GET", judged=False), [], ""),
    (entry(status=502, answered_by="proxy", judged=False, response={"code": "TARGET_UNREACHABLE",
                                                                    "detail": "Cible injoignable"}),
     [], "⚠ TARGET_UNREACHABLE Cible injoignable"),
])
def test_each_call_says_what_the_contract_makes_of_it(call, findings, says):
    said = describe(call, findings)
    assert said.startswith(says) if says else said == ""


def test_a_line_per_call_in_the_request_logs_shape():
    out = io.StringIO()
    LiveLog(out)(entry(query="x=1"), [])
    line = out.getvalue()
    assert line.endswith("openflex PATCH /api/v1/vehicles/V1?x=1 dms@demo 200 1.2ms ✓ conforme\n")
