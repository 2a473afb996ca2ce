"""Expectations of the scenario files: `$references` and the few matchers they use.

A value `"$vehicle.vin"` is looked up in the run's namespace (the generated case and
what earlier steps returned); a mapping with one matcher key tests instead of
comparing: `{present: true}`, `{pattern: "^…$"}`, `{has: {kind: ORDER}}` (a list
holds an item with these values). Everything else is compared for equality
(numbers as numbers: 45190 == 45190.0).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MATCHERS = ("present", "pattern", "has")


class UnknownReference(KeyError):
    """A `$name` that neither the case nor an earlier step provides."""


def resolve(value: Any, namespace: Mapping[str, Any]) -> Any:
    """`value` with every `$reference` replaced, recursively."""
    if isinstance(value, str) and value.startswith("$"):
        return lookup(namespace, value[1:])
    if isinstance(value, Mapping):
        return {k: resolve(v, namespace) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, namespace) for v in value]
    return value


def lookup(namespace: Mapping[str, Any], dotted: str) -> Any:
    node: Any = namespace
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise UnknownReference(f"${dotted}: unknown reference")
        node = node[part]
    return node


def is_matcher(expected: Any) -> bool:
    return isinstance(expected, Mapping) and len(expected) == 1 and next(iter(expected)) in MATCHERS


def matches(actual: Any, expected: Any) -> bool:
    if is_matcher(expected):
        (kind, arg), = expected.items()
        if kind == "present":
            return (actual is not None) == bool(arg)
        if kind == "pattern":
            return isinstance(actual, str) and re.search(arg, actual) is not None
        return isinstance(actual, list) and any(
            isinstance(item, Mapping) and all(matches(item.get(k), v) for k, v in arg.items())
            for item in actual)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return abs(actual - expected) < 1e-6
    return actual == expected


def mismatches(actual: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """One readable line per expected field that does not hold."""
    return [f"{name}: attendu {_show(want)}, obtenu {_show(actual.get(name))}"
            for name, want in expected.items() if not matches(actual.get(name), want)]


def _show(value: Any) -> str:
    if is_matcher(value):
        (kind, arg), = value.items()
        return f"{kind} {arg!r}"
    return repr(value)
