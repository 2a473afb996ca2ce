"""Test data built from the contract itself: valid sample values, vehicles and creation bodies.

Everything is derived from `vehicle.yaml` (each field's type spec) and `lifeline.yaml`
(statuses, preconditions), so a new field or row gets sample data with no new code.
A sample is checked against its spec before it is returned: a spec this module cannot
satisfy fails loudly instead of producing an invalid value.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from icarflex.contracts.models import Contract, FieldSpec

_TOKEN = re.compile(r"\[(?P<cls>[^\]^][^\]]*)\]|\\(?P<esc>.)|(?P<lit>[^\[\]{}\\^$()|.+*?])")
_QUANT = re.compile(r"\{(\d+)(?:,(\d*))?\}")
_BASE_DATE = date(2020, 1, 15)

def _class_chars(spec: str) -> list[str]:
    chars, i = [], 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            chars += [chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1)]
            i += 3
        else:
            chars.append(spec[i])
            i += 1
    return chars


def pattern_sample(pattern: str, variant: int = 0) -> str:
    """A string matching `pattern` (anchors, literals, [classes], {n} or {n,m} only)."""
    body, out, pos = pattern.removeprefix("^").removesuffix("$"), [], 0
    while pos < len(body):
        token = _TOKEN.match(body, pos)
        if token is None:
            raise ValueError(f"pattern_sample cannot handle {pattern!r} at {body[pos:]!r}")
        pos = token.end()
        chars = _class_chars(token["cls"]) if token["cls"] else [token["esc"] or token["lit"]]
        quant = _QUANT.match(body, pos)
        count = int(quant[1]) if quant else 1
        pos = quant.end() if quant else pos
        out += [chars[(variant + index * 7) % len(chars)] for index in range(count)]
    value = "".join(out)
    assert re.fullmatch(pattern, value), (pattern, value)
    return value


def _candidate(contract: Contract, name: str, spec: FieldSpec, variant: int) -> Any:
    if spec.type == "enum":
        values = contract.enum_values(name)
        return values[variant % len(values)]
    if spec.type == "boolean":
        return bool(variant % 2)
    if spec.type in ("integer", "number"):
        low = max(spec.minimum or 0, 2)  # above 1: a price sample must not trip rule R7
        value = low + 1500 * variant + (0 if spec.type == "integer" else 0.5)
        value = min(value, spec.maximum) if spec.maximum is not None else value
        return int(value) if spec.type == "integer" else float(value)
    if spec.type == "date":
        sign = 1 if variant % 2 else -1
        return (_BASE_DATE + timedelta(days=sign * 30 * (variant // 2 + 1))).isoformat()
    if spec.formats:  # the examples of the formats every vehicle may take (no `when`)
        examples = [e for fmt in spec.formats if not fmt.when for e in fmt.examples]
        return examples[variant % len(examples)]
    if spec.pattern:
        return pattern_sample(spec.pattern, variant)
    text = f"Échantillon {variant}"
    text = text[: spec.max_length] if spec.max_length else text
    return text.ljust(spec.min_length or 0, "x")


def is_valid(contract: Contract, name: str, value: Any) -> bool:
    """Does `value` fit the type spec of field `name` in vehicle.yaml?"""
    spec = contract.vehicle.fields[name]
    checks = {
        "enum": lambda v: v in contract.enum_values(name),
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "date": lambda v: isinstance(v, str) and date.fromisoformat(v).isoformat() == v,
        "string": lambda v: isinstance(v, str),
    }
    if not checks[spec.type](value):
        return False
    if spec.type in ("integer", "number"):
        return ((spec.minimum is None or value >= spec.minimum)
                and (spec.maximum is None or value <= spec.maximum))
    if spec.type == "string":
        return (len(value) >= (spec.min_length or 0)
                and (spec.max_length is None or len(value) <= spec.max_length)
                and (spec.pattern is None or re.fullmatch(spec.pattern, value) is not None))
    return True


def _fits_constraints(contract: Contract, vehicle: dict[str, Any]) -> bool:
    for constraint in contract.vehicle.constraints:
        first, second = vehicle.get(constraint.field), vehicle.get(constraint.other)
        if first and second and str(first) > str(second):
            return False
    return True


def sample_value(contract: Contract, name: str, current: Any = None,
                 vehicle: dict[str, Any] | None = None) -> Any:
    """A valid value for field `name`, different from `current`, keeping `vehicle` consistent."""
    spec = contract.vehicle.fields[name]
    for variant in range(1, 40):
        value = _candidate(contract, name, spec, variant)
        if value != current and _fits_constraints(contract, {**(vehicle or {}), name: value}):
            assert is_valid(contract, name, value), (name, value)
            return value
    raise AssertionError(f"no valid sample for {name} different from {current!r}")


def writable_fields(contract: Contract) -> list[str]:
    """The vehicle's data fields some actor may write (not computed by OpenFlex), status aside."""
    return [name for name, spec in contract.vehicle.fields.items() if not spec.read_only and name != "status"]


def base_vehicle(contract: Contract, status: str | None = None, destination: str | None = None,
                 **overrides: Any) -> dict[str, Any]:
    """A complete, valid vehicle satisfying every precondition of the lifeline."""
    vehicle: dict[str, Any] = {"id": "veh-test-1"}
    for name in writable_fields(contract):
        vehicle[name] = sample_value(contract, name, vehicle=vehicle)
    for name in contract.lifeline.preconditions:
        vehicle.update(precondition_state(contract, name, met=True))
    # Rule R9: a VAT regime every origin allows (the margin scheme), whatever origin a test sets.
    fixed = {contract.fixed_vat_recoverable(o) for o in contract.enum_values("origin")} - {None}
    if len(fixed) == 1:
        vehicle["vat_recoverable"] = fixed.pop()
    vehicle["status"] = status or contract.entry_status
    if destination:
        vehicle["destination"] = destination
    vehicle.update(overrides)
    return vehicle


def creation_body(contract: Contract, **overrides: Any) -> dict[str, Any]:
    """The smallest valid creation body: the fields required at creation."""
    body: dict[str, Any] = {}
    for name in contract.vehicle.required_at_creation:
        body[name] = sample_value(contract, name, vehicle=body)
    if contract.fixed_vat_recoverable(body.get("origin")) is None:  # rule R9: stated at the purchase
        body["vat_recoverable"] = False
    body.update(overrides)
    return body


def destination_for(contract: Contract, from_: str, to: str) -> str:
    """A destination whose lifeline (or transitions) allow from_ → to."""
    for destination in contract.lifeline.lifelines:
        if contract.transition(from_, to, destination) is not None:
            return destination
    raise AssertionError(f"no destination allows {from_} -> {to}")


def precondition_state(contract: Contract, name: str, met: bool) -> dict[str, Any]:
    """The vehicle state that makes precondition `name` hold (`met`) or break, from its typed form
    in lifeline.yaml; the engine's `precondition_holds` is what judges it (a test checks both)."""
    pre = contract.lifeline.preconditions[name]
    if pre.present is not None:
        return {pre.present: sample_value(contract, pre.present) if met else None}
    if pre.not_in is not None:
        field, values = next(iter(pre.not_in.items()))
        allowed = [v for v in contract.enum_values(field) if v not in values]
        return {field: allowed[-1] if met else values[0]}
    shapes = {"order": {"kind": contract.vehicle.reservations.order},
              "blocking": dict(contract.vehicle.reservations.blocking)}
    return {"reservations": [shapes[(pre.reservation or ("blocking",))[-1]]] if met else []}
