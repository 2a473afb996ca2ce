"""The ICAR fake's own error conditions: OpenFlex refused a push, or could not be reached.

Both are answered as problem+json like every other error (icarflex.mocks.common.errors); the
codes are the DMS side's, not the contract's, so their status is given explicitly.
A refusal carries OpenFlex's problem (`upstream`) and copies up its `fields`, `rule`
and `violations`, so a client sees which rule of the contract the push broke.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from icarflex.mocks.common.errors import ApiError


class UpstreamRefused(ApiError):
    """OpenFlex answered 4xx: the push was refused; the DMS record was left as it was."""

    def __init__(self, status: int | None, problem: Mapping[str, Any] | None, sync_id: int) -> None:
        problem = dict(problem or {})
        super().__init__(
            "UPSTREAM_REFUSED",
            f"OpenFlex a refusé l'appel ({status}) : {problem.get('detail') or problem.get('title') or ''}",
            status=502, fields=_strings(problem.get("fields")), rules=_strings(problem.get("rule")),
            label=problem.get("label") if isinstance(problem.get("label"), str) else None,
            extra={"upstream_status": status, "upstream": problem, "sync_id": sync_id,
                   "violations": problem.get("violations") or []})
        self.title = "Écriture refusée par OpenFlex"


class UpstreamUnavailable(ApiError):
    """OpenFlex timed out, could not be reached or answered 5xx, after the bounded retries."""

    def __init__(self, detail: str, status: int | None, attempts: int, sync_id: int) -> None:
        super().__init__("UPSTREAM_UNAVAILABLE",
                         f"OpenFlex injoignable après {attempts} tentative(s) : {detail}", status=504,
                         extra={"upstream_status": status, "attempts": attempts, "sync_id": sync_id})
        self.title = "OpenFlex injoignable"


class UpstreamNotFound(ApiError):
    """The vehicle to match is not known to OpenFlex."""

    def __init__(self, detail: str, field: str, sync_id: int | None) -> None:
        super().__init__("NOT_FOUND", detail, fields=[field], extra={"sync_id": sync_id})


class WrongDmsStatus(ApiError):
    """The operation is not possible from the DMS record's current status."""

    def __init__(self, current: str, expected: Sequence[str], operation: str) -> None:
        super().__init__("CONFLICT", f"{operation} : le VEH est au statut ICAR {current} "
                         f"(attendu : {', '.join(expected)})", fields=["status"])


class RecordBusy(ApiError):
    """Another operation on the same DMS record is in flight (its push to OpenFlex pending)."""

    def __init__(self, record_id: str, operation: str) -> None:
        super().__init__("CONFLICT", f"Une opération ({operation}) est en cours sur le VEH {record_id}",
                         fields=["id"])


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
