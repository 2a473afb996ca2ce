"""Rule R10 (inferred) in the checker, on journals: an ICAR operation OpenFlex never received
stays a failing desynchronisation until an accepted call settles it; one OpenFlex refused is
reported (both systems agree, the police number is struck) and settled when the same
operation is accepted later. The live cases are tests/mocks/icar/test_icar_desynchronisation.py."""
from __future__ import annotations

from typing import Any

from icarflex.scenarios.checker import DESYNC, DESYNC_REFUSED, DESYNC_RESOLVED, check_journal

ENTRY = "/api/v1/vehicles/REC-1/physical-entry"


def icar(seq: int, method: str, path: str, status: int, response: dict[str, Any]) -> dict[str, Any]:
    return {"system": "icar", "seq": seq, "at": f"2026-01-01T10:00:{seq:02d}Z", "dealer": "demo",
            "actor": "icar_user", "method": method, "path": path, "status": status, "request": {},
            "response": response, "vehicle_id": "REC-1"}


UNAVAILABLE = icar(1, "POST", ENTRY, 504, {"code": "UPSTREAM_UNAVAILABLE", "operation_id": 7, "sync_id": 3})
REFUSED = icar(1, "POST", ENTRY, 502, {"code": "UPSTREAM_REFUSED", "operation_id": 8, "sync_id": 4,
                                       "rule": ["R2"]})


def desyncs(entries: list[dict[str, Any]]) -> list[tuple[str, str | None, bool]]:
    return [(f.kind, f.rule, f.failing) for f in check_journal(entries) if f.kind.startswith(DESYNC)]


def test_an_operation_never_received_is_a_failing_desynchronisation():
    assert desyncs([UNAVAILABLE]) == [(DESYNC, "R10", True)]


def test_a_replay_whose_operation_is_done_settles_it():
    replay = icar(2, "POST", "/api/v1/sync-log/3/replay", 200, {"operation": {"id": 7, "state": "DONE"}})
    replay["vehicle_id"] = None
    assert desyncs([UNAVAILABLE, replay]) == [(DESYNC_RESOLVED, "R10", False)]


def test_a_replay_that_fails_again_does_not_settle_it():
    replay = icar(2, "POST", "/api/v1/sync-log/3/replay", 504, {"code": "UPSTREAM_UNAVAILABLE",
                                                                  "operation_id": 7})
    replay["vehicle_id"] = None
    assert desyncs([UNAVAILABLE, replay]) == [(DESYNC, "R10", True)]


def test_a_refused_operation_is_reported_not_failing_and_settled_by_the_same_operation_accepted():
    assert desyncs([REFUSED]) == [(DESYNC_REFUSED, "R10", False)]
    other = icar(2, "POST", "/api/v1/vehicles/REC-1/frevo", 201, {"id": "REC-1"})
    assert desyncs([REFUSED, other]) == [(DESYNC_REFUSED, "R10", False)]
    again = icar(3, "POST", ENTRY, 200, {"id": "REC-1"})
    assert desyncs([REFUSED, other, again]) == [(DESYNC_RESOLVED, "R10", False)]


def test_a_refusal_without_operation_is_no_desynchronisation():
    """A raw write (openflex-writes, the negative twins' pushes) books nothing in ICAR."""
    raw = icar(1, "POST", "/api/v1/vehicles/REC-1/openflex-writes", 502, {"code": "UPSTREAM_REFUSED",
                                                                          "operation_id": None})
    assert desyncs([raw]) == []
