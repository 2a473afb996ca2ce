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

    def __init__(self, status: int | None, problem: Mapping[str, Any] | None, sync_id: int,
                 operation_id: int | None = None) -> None:
        problem = dict(problem or {})
        super().__init__(
            "UPSTREAM_REFUSED",
            f"OpenFlex a refusé l'appel ({status}) : {problem.get('detail') or problem.get('title') or ''}",
            status=502, fields=_strings(problem.get("fields")), rules=_strings(problem.get("rule")),
            label=problem.get("label") if isinstance(problem.get("label"), str) else None,
            extra={"upstream_status": status, "upstream": problem, "sync_id": sync_id,
                   "operation_id": operation_id, "violations": problem.get("violations") or []})
        self.title = "Écriture refusée par OpenFlex"


class UpstreamUnavailable(ApiError):
    """OpenFlex timed out, could not be reached or answered 5xx, after the bounded retries.

    For an operation of the outbox (`operation_id`), it stays open, with its police number:
    the next call on the record, `POST /outbox/resume` or a replay of the sync entry retries it."""

    def __init__(self, detail: str, status: int | None, attempts: int, sync_id: int,
                 operation_id: int | None = None) -> None:
        pending = (f" ; l'opération {operation_id} reste en attente et sera rejouée telle quelle"
                   if operation_id is not None else "")
        super().__init__("UPSTREAM_UNAVAILABLE",
                         f"OpenFlex injoignable après {attempts} tentative(s) : {detail}{pending}",
                         status=504,
                         extra={"upstream_status": status, "attempts": attempts, "sync_id": sync_id,
                                "operation_id": operation_id})
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


class NotDelivered(ApiError):
    """An invoice that does not exit the vehicle (the DMS's exit at NON) on a vehicle OpenFlex does
    not show delivered: ICAR would be invoiced ahead of OpenFlex, with no exit to follow."""

    def __init__(self, current: Any, delivered: str, row: str | None) -> None:
        super().__init__("CONFLICT", f"invoice : le VEH est au statut OpenFlex {current} (attendu : "
                         f"{delivered}) ; la sortie se fait dans OpenFlex ({row} à NON), après la "
                         "livraison", fields=["status"])


class RecordBusy(ApiError):
    """Another request began an operation on the same DMS record meanwhile (its push in flight)."""

    def __init__(self, record_id: str, operation: str) -> None:
        super().__init__("CONFLICT", f"Une opération ({operation}) est en cours sur le VEH {record_id} ; "
                         "réessayer", fields=["id"])


class NotReplayable(ApiError):
    """A sync log entry that cannot be replayed (not FAILED, not a write, or already settled)."""

    def __init__(self, detail: str, field: str) -> None:
        super().__init__("CONFLICT", detail, fields=[field])


def accepted(out: Any) -> Any:
    """The body of an accepted connector call (`connector.Outcome`); raises the upstream error of
    a refused or failed one."""
    if out.ok:
        return out.body
    entry = out.entry
    if out.refused:
        problem = entry.problem if isinstance(entry.problem, Mapping) else {"detail": str(entry.problem)}
        raise UpstreamRefused(entry.status, problem, entry.id or 0)
    raise UpstreamUnavailable(entry.error or "", entry.status, entry.attempts, entry.id or 0)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
