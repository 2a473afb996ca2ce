"""The wire mapping: a target's paths and JSON names, as data, against the fakes' own.

No public specification of the OpenFlex API VO exists: the fakes' HTTP shape is icarflex's
design (docs/api.md). A real OpenFlex may answer under other paths and other JSON names; a
mapping file says which, and every client reads it — the ICAR connector (config
`OPENFLEX_MAPPING`), the scenario runner and `verify` (`--mapping`), the proxy — so that the
contract, the journals and the checker keep speaking the fakes' names. The default mapping
is the fakes' own names.

    prefix: /api/v1                      # where the target's API answers
    paths:                               # resource → path under the prefix, {parameters}
      vehicle: /vo/{vehicle_id}
    fields:                              # vehicle field (the fakes' name) → the target's JSON name
      vin: chassis

A resource not named keeps the fakes' path; a field not named keeps its name.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from icarflex.contracts import load_contract

PREFIX = "/api/v1"
# The fakes' resources (docs/api.md), most specific first.
RESOURCES: dict[str, str] = {
    "reservation": "/vehicles/{vehicle_id}/reservations/{reservation_id}",
    "reservations": "/vehicles/{vehicle_id}/reservations",
    "vehicle": "/vehicles/{vehicle_id}",
    "vehicles": "/vehicles",
    "trade_ins": "/opportunities/{opportunity_id}/trade-ins",
    "order": "/opportunities/{opportunity_id}/order",
    "opportunity": "/opportunities/{opportunity_id}",
    "opportunities": "/opportunities",
    "settings": "/settings/api-vo",
    "events": "/events",
    "reference": "/reference/vehicles",
}
_PARAMETER = re.compile(r"\{(\w+)\}")


class MappingError(ValueError):
    """A mapping file that does not fit this shape; the message names the file and the key."""


def _pattern(template: str) -> re.Pattern[str]:
    parts = _PARAMETER.split(template)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
    return re.compile(f"^{regex}/?$")


@dataclass(frozen=True)
class WireMapping:
    prefix: str = PREFIX
    paths: Mapping[str, str] = field(default_factory=dict)    # resource → the target's template
    fields: Mapping[str, str] = field(default_factory=dict)   # the fakes' name → the target's

    def __post_init__(self) -> None:
        wire = {name: self.prefix + self.paths.get(name, template) for name, template in RESOURCES.items()}
        object.__setattr__(self, "_wire", [(name, _pattern(t)) for name, t in wire.items()])
        object.__setattr__(self, "_to_contract", {w: f for f, w in self.fields.items()})

    @property
    def identity(self) -> bool:
        return self.prefix == PREFIX and not self.fields and all(
            RESOURCES[name] == template for name, template in self.paths.items())

    def contract_path(self, wire_path: str) -> str:
        """The fakes' path of a call the target knows under `wire_path` (unchanged when unknown)."""
        for name, pattern in self._wire:  # type: ignore[attr-defined]
            match = pattern.match(wire_path)
            if match:
                return PREFIX + RESOURCES[name].format(**match.groupdict())
        return wire_path

    def wire_path(self, resource: str, **parameters: str) -> str:
        """The target's path of one of the fakes' resources."""
        return self.prefix + self.paths.get(resource, RESOURCES[resource]).format(**parameters)

    def to_contract(self, body: Any) -> Any:
        """A body in the fakes' names: keys renamed at the top level, in a page's `items` and in the
        parameterization's `fields`."""
        return _renamed(body, self._to_contract)  # type: ignore[attr-defined]

    def to_wire(self, body: Any) -> Any:
        """A body (or query filters) in the target's names: the inverse of `to_contract`."""
        return _renamed(body, self.fields)


def _renamed(body: Any, renames: Mapping[str, str]) -> Any:
    if not renames or not isinstance(body, dict):
        return body
    out = {renames.get(k, k): v for k, v in body.items()}
    if isinstance(out.get("fields"), dict):  # the API VO parameterization: one row per field
        out["fields"] = {renames.get(k, k): v for k, v in out["fields"].items()}
    if isinstance(out.get("items"), list):
        out["items"] = [{renames.get(k, k): v for k, v in i.items()} if isinstance(i, dict) else i
                        for i in out["items"]]
    return out


def load_mapping(path: str | Path | None) -> WireMapping:
    """The mapping file at `path` (YAML or JSON), else the fakes' own names."""
    if path is None:
        return WireMapping()
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise MappingError(f"{path}: expected a mapping with prefix, paths, fields")
    unknown = set(raw) - {"prefix", "paths", "fields"}
    if unknown:
        raise MappingError(f"{path}: unknown keys {sorted(unknown)}; expected prefix, paths, fields")
    paths, fields = raw.get("paths") or {}, raw.get("fields") or {}
    for section, rows in (("paths", paths), ("fields", fields)):
        if not isinstance(rows, dict) or not all(isinstance(v, str) for v in rows.values()):
            raise MappingError(f"{path}: {section}: expected a mapping of names to strings")
    bad = sorted(set(paths) - set(RESOURCES))
    if bad:
        raise MappingError(f"{path}: paths.{bad[0]}: unknown resource; "
                           f"expected one of {', '.join(RESOURCES)}")
    for name, template in paths.items():
        if set(_PARAMETER.findall(template)) != set(_PARAMETER.findall(RESOURCES[name])):
            raise MappingError(f"{path}: paths.{name}: parameters must be those of {RESOURCES[name]}")
    unknown_fields = sorted(set(fields) - set(load_contract().vehicle.fields))
    if unknown_fields:
        raise MappingError(f"{path}: fields.{unknown_fields[0]}: not a vehicle field of the contract")
    prefix = raw.get("prefix", PREFIX)
    if not isinstance(prefix, str) or (prefix and not prefix.startswith("/")):
        raise MappingError(f"{path}: prefix: expected a path starting with /")
    return WireMapping(prefix.rstrip("/"), paths, fields)
