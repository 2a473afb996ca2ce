"""schemathesis hooks for both fakes (`SCHEMATHESIS_HOOKS=tests/mocks/common/schemathesis_hooks.py`).

One check, run with `--checks all`: `schemathesis.toml` lets a few operations refuse a
schema-valid request (422, 412) or answer a refused push to OpenFlex (502, 504); this check
demands that each such answer is the one the operation's document names — every violation
of the problem listed in its `x-icarflex-refusals` (same code, a field it lists) unless its
code is a 403/409 one (rights and state, accepted anyway), or the ICAR fake's upstream
problem — and never any other 4xx or 5xx hiding behind the allowance.
"""
from __future__ import annotations

from typing import Any

import schemathesis
from icarflex.contracts import load_contract

UPSTREAM = {502: "UPSTREAM_REFUSED", 504: "UPSTREAM_UNAVAILABLE"}


@schemathesis.check
def refusal_named_by_the_document(ctx: Any, response: Any, case: Any) -> bool | None:
    status = response.status_code
    if status not in (412, 422, *UPSTREAM):
        return None
    problem = _problem(response)
    if status in UPSTREAM:
        if problem.get("code") != UPSTREAM[status] or (status == 502 and "upstream" not in problem):
            raise AssertionError(f"{status} without the ICAR fake's upstream problem: {problem}")
        return None
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    named = case.operation.definition.raw.get("x-icarflex-refusals", [])
    unnamed = [v for v in _violations(problem) if not _accepted(v["code"]) and not any(
        r["code"] == v["code"] and v["field"] in r["fields"] for r in named)]
    if unnamed:
        raise AssertionError(f"schema-valid request refused {status} by no rule its document names: "
                             f"{unnamed} ({problem.get('detail')})")
    return None


def _violations(problem: dict[str, Any]) -> list[dict[str, Any]]:
    """Each (code, field) the problem refuses for: its violations, else its code and fields."""
    violations = [v for v in problem.get("violations") or [] if isinstance(v, dict)]
    if violations:
        return [{"code": v.get("code"), "field": v.get("field")} for v in violations]
    return [{"code": problem.get("code"), "field": f} for f in problem.get("fields") or [None]]


def _accepted(code: str | None) -> bool:
    """A refusal positive data acceptance takes anyway (403 a right, 409 a state), by its status."""
    known = load_contract().codes.get(code or "")
    return known is not None and known.status in (401, 403, 404, 409)


def _problem(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise AssertionError(f"{response.status_code} without a problem+json body")
    return body
