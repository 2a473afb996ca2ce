"""A vehicle's representation and its versions, as pure functions (no store, no Flask).

A vehicle's JSON carries every contract data field, its reservations, `published`
(computed from status and reservations, never stored) and `version_tag`, the version
its strong ETag names; the store keeps the data fields as one document (`doc_of`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from icarflex.contracts import Contract, is_published

PUBLISHED = "published"
FILTER_COLUMNS = ("status", "vin", "registration", "police_number")  # list filters, own indexed columns


def version_tag(version: int) -> str:
    return f"v{version}"


def version_of(vehicle: Mapping[str, Any]) -> int:
    """The version counter behind a vehicle's `version_tag`."""
    return int(str(vehicle["version_tag"]).lstrip("v"))


def etag(vehicle: Mapping[str, Any]) -> str:
    """The strong ETag of a vehicle's representation."""
    return f'"{vehicle["version_tag"]}"'


def etag_matches(if_match: str | None, tag: str) -> bool:
    """RFC 9110 If-Match with strong comparison; `*` matches; an unquoted tag is tolerated."""
    if if_match is None:
        return True
    candidates = [c.strip() for c in if_match.split(",")]
    return any(c in ("*", f'"{tag}"', tag) for c in candidates)


def doc_of(contract: Contract, vehicle: Mapping[str, Any]) -> dict[str, Any]:
    """What the store keeps of a vehicle's data fields."""
    return {k: vehicle.get(k) for k in contract.vehicle.fields if k != PUBLISHED}


def vehicle_json(contract: Contract, row: Mapping[str, Any], doc: Mapping[str, Any],
                 reservations: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON of a stored vehicle (its row's columns, its document, its reservations)."""
    fields = {name: doc.get(name) for name in contract.vehicle.fields}
    fields["status"] = row["status"]
    fields[PUBLISHED] = is_published(contract, row["status"], reservations)
    return {"id": row["id"], "dealer": row["dealer"], **fields, "reservations": reservations,
            "opportunity_id": row["opportunity_id"], "created_at": row["created_at"],
            "updated_at": row["updated_at"], "version_tag": version_tag(row["version"])}
