"""schemathesis hooks for both fakes (`SCHEMATHESIS_HOOKS=tests/mocks/common/schemathesis_hooks.py`).

One check, run with `--checks all`: `schemathesis.toml` lets a few operations refuse a
schema-valid request (422, 412) or answer a refused push to OpenFlex (502, 504); this check
demands that each such answer is the one the operation's document names — a refusal listed
in its `x-icarflex-refusals` (same status, code, and fields among the listed ones), or the
ICAR fake's upstream problem — and never any other 4xx or 5xx hiding behind the allowance.
"""
from __future__ import annotations

from typing import Any

import schemathesis

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
    fields = set(problem.get("fields") or [])
    named = case.operation.definition.raw.get("x-icarflex-refusals", [])
    if not any(r["status"] == status and r["code"] == problem.get("code") and fields <= set(r["fields"])
               for r in named):
        raise AssertionError(f"schema-valid request refused {status} {problem.get('code')} "
                             f"{sorted(fields)} by no rule its document names: {problem.get('detail')}")
    return None


def _problem(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise AssertionError(f"{response.status_code} without a problem+json body")
    return body
