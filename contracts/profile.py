"""A dealer's active API VO parameterization: the guide's defaults with a profile laid over.

A profile is the JSON/YAML shape of `GET /settings/api-vo`, or any subset of it:

    settings:     {uc_car_management_activated: false, uc_price_editable: true}
    fields:       {vin: {dms_modifiable: false}, ...}
    capabilities: {exit_from_delivery: true, create_vehicles: false}

Every key is a row id of `parameterization.yaml`; an unknown id, a row under the
wrong kind or a value that is not a boolean is a `ProfileError` naming the row.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from icarflex.contracts.models import Contract, ContractError, load_contract

SECTIONS = {"settings": "setting", "fields": "field", "capabilities": "capability"}
# The two settings rows the code reads by name (guide §2); everything else is generic.
MASTER_SETTING = "uc_car_management_activated"
PRICE_SETTING = "uc_price_editable"


class ProfileError(ContractError):
    """A profile (file or request body) that does not fit the parameterization."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "profile") -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(f"{source}: {where}: {msg}" for where, msg in problems))

    @property
    def fields(self) -> list[str]:
        return [where for where, _ in self.problems]


@dataclass(frozen=True)
class ApiVoSettings:
    """The value of every row of the parameterization, by row id."""

    contract: Contract = field(repr=False, compare=False)
    values: Mapping[str, bool]

    @classmethod
    def defaults(cls, contract: Contract | None = None) -> ApiVoSettings:
        contract = contract or load_contract()
        return cls(contract, {row.id: row.default for row in contract.parameterization.rows})

    def __getitem__(self, row_id: str) -> bool:
        return self.values[row_id]

    @property
    def dms_is_master(self) -> bool:
        """Inferred (guide §2, row uc_car_management_activated): the DMS flow takes priority."""
        return self.values[MASTER_SETTING]

    @property
    def low_prices_allowed(self) -> bool:
        """Guide §2 row uc_price_editable / rule R7: may a sale price be ≤ 1?"""
        return self.values[PRICE_SETTING]

    def dms_may_modify(self, field_id: str) -> bool:
        """Guide §2 / rule R6: may the DMS write this vehicle field through the API VO?"""
        row = self.contract.rows.get(field_id)
        if self.dms_is_master:
            spec = self.contract.vehicle.fields.get(field_id)
            return spec is not None and not spec.read_only
        return row is not None and row.kind == "field" and self.values[field_id]

    def merge(self, overlay: Mapping[str, Any] | None, source: str = "profile") -> ApiVoSettings:
        """These settings with `overlay` (a profile, any subset) laid over them."""
        changes = parse_overlay(self.contract, overlay, source)
        return ApiVoSettings(self.contract, {**self.values, **changes})

    def to_json(self) -> dict[str, Any]:
        """The shape of `GET /settings/api-vo`."""
        out: dict[str, Any] = {section: {} for section in SECTIONS}
        for row in self.contract.parameterization.rows:
            section = _section_of(row.kind)
            value = self.values[row.id]
            out[section][row.id] = {"dms_modifiable": value} if row.kind == "field" else value
        return out

    def diff(self, other: ApiVoSettings) -> list[str]:
        """Row ids whose value differs, in the guide's order."""
        return [row.id for row in self.contract.parameterization.rows
                if self.values[row.id] != other.values[row.id]]


def _section_of(kind: str) -> str:
    return next(section for section, k in SECTIONS.items() if k == kind)


def parse_overlay(contract: Contract, overlay: Any, source: str = "profile") -> dict[str, bool]:
    """Validate a profile's shape against the contract; return {row id: value}."""
    if overlay is None:
        return {}
    if not isinstance(overlay, Mapping):
        raise ProfileError([("(root)", "expected a mapping with settings, fields, capabilities")], source)
    problems: list[tuple[str, str]] = []
    values: dict[str, bool] = {}
    for section, rows in overlay.items():
        kind = SECTIONS.get(section)
        if kind is None:
            problems.append((str(section), f"unknown section; expected one of {', '.join(SECTIONS)}"))
            continue
        if rows is None:  # `fields:` with every row commented out: an empty section
            continue
        if not isinstance(rows, Mapping):
            problems.append((section, "expected a mapping of row ids"))
            continue
        for row_id, raw in rows.items():
            where = f"{section}.{row_id}"
            row = contract.rows.get(row_id)
            if row is None or row.kind != kind:
                hint = f" (it is a {row.kind} row)" if row else ""
                problems.append((where, f"not a {kind} row of the API VO parameterization{hint}"))
                continue
            value = raw.get("dms_modifiable") if kind == "field" and isinstance(raw, Mapping) else raw
            extra = set(raw) - {"dms_modifiable"} if kind == "field" and isinstance(raw, Mapping) else set()
            if kind == "field" and not isinstance(raw, Mapping):
                problems.append((where, "expected {dms_modifiable: true|false}"))
            elif extra:
                problems.append((where, f"unknown keys {sorted(extra)}; expected dms_modifiable"))
            elif not isinstance(value, bool):
                problems.append((where, f"expected true or false, got {value!r}"))
            else:
                values[row_id] = value
    if problems:
        raise ProfileError(problems, source)
    return values


def load_profile(path: str | Path | None, contract: Contract | None = None) -> ApiVoSettings:
    """The guide's defaults with the profile file at `path` (YAML or JSON) laid over."""
    contract = contract or load_contract()
    base = ApiVoSettings.defaults(contract)
    if path is None:
        return base
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError([("(file)", str(exc))], path.name) from exc
    return base.merge(raw, source=str(path))
