"""The verdict of one call, from the contract's rule engine, and the audit of what the target did.

Before forwarding, `Judge.verdict` asks the engine (`icarflex.contracts.evaluate`) what the
contract says of the call: the vehicle write the checker would audit (creation, trade-in
estimation, PATCH, as `icarflex.scenarios.checker` reads them) under the parameterization
the proxy expects (its profile, then every accepted settings change seen through it), on
the vehicle as the target answered it just before. After the answer, `Judge.audit` hands
the journal entry to the checker's `Auditor`: a forbidden write the target accepted is a
violation, one it refused an attempt. No rule is written here.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from icarflex.contracts import ApiVoSettings, Contract, Violation, evaluate
from icarflex.contracts.engine import evaluate_unknown_state, order_price_violations
from icarflex.scenarios.checker import VEHICLE_PATH, Auditor, Finding
from icarflex.scenarios.checker import _change_of as change_of  # the checker's reading of a write

ORDER_PATH = re.compile(r"^/api/v1/opportunities/[^/]+/order/?$")
ORDER_PRICE = "price"  # the order body's price (docs/api.md), judged as a sale price (rule R7)


@dataclass(frozen=True)
class Identity:
    actor: str
    dealer: str


@dataclass
class Call:
    """One call as the contract names it: the fakes' path, the body in the fakes' names."""

    method: str
    path: str
    body: Any = None
    unreadable: str | None = None    # why the body could not be read as JSON (then not judged)
    identity: Identity | None = None

    @property
    def vehicle_id(self) -> str | None:
        match = VEHICLE_PATH.match(self.path)
        return match["id"] if match else None


@dataclass
class Verdict:
    violations: list[Violation] = field(default_factory=list)
    unjudged: str | None = None      # « non jugé » and why: a write whose body could not be read
    judged: bool = False             # a write the contract judges, judged

    def to_json(self) -> list[dict[str, Any]]:
        return [v.to_json() for v in self.violations]


class Judge:
    """The contract's verdicts on a stream of calls, one dealer's parameterization after another."""

    def __init__(self, contract: Contract, expected: ApiVoSettings) -> None:
        self.contract = contract
        self.auditor = Auditor(contract, expected)
        self._lock = threading.Lock()   # the auditor follows settings and vehicles call after call

    def is_judged(self, call: Call) -> bool:
        """Is this a write the contract judges (a vehicle write, an order)?"""
        return (change_of({"method": call.method, "path": call.path, "request": {}}) is not None
                or (call.method == "POST" and ORDER_PATH.match(call.path) is not None))

    def reads_before(self, call: Call) -> str | None:
        """The vehicle to read before forwarding, to judge the call on its state (a PATCH)."""
        return call.vehicle_id if call.method == "PATCH" and self.is_judged(call) else None

    def verdict(self, call: Call, before: Mapping[str, Any] | None) -> Verdict:
        if not self.is_judged(call):
            return Verdict()
        if call.unreadable is not None or not isinstance(call.body, Mapping):
            why = call.unreadable or f"corps {type(call.body).__name__}, pas un objet JSON"
            return Verdict(unjudged=f"non jugé : {why}")
        actor = call.identity.actor if call.identity else ""
        with self._lock:
            settings = self.auditor.settings_of(call.identity.dealer if call.identity else None)
        if ORDER_PATH.match(call.path):
            return Verdict([replace(v, field=ORDER_PRICE) for v in
                            order_price_violations(self.contract, settings, call.body.get(ORDER_PRICE))],
                           judged=True)
        change = change_of({"method": call.method, "path": call.path, "request": call.body}) or {}
        if call.method != "PATCH":
            return Verdict(evaluate(self.contract, settings, actor, None, change), judged=True)
        if before is not None:
            return Verdict(evaluate(self.contract, settings, actor, before, change), judged=True)
        # The target did not let the vehicle be read: what needs no state (the checker then says
        # which status move it could not judge).
        return Verdict(evaluate_unknown_state(self.contract, settings, actor, change), judged=True)

    def audit(self, entry: Mapping[str, Any]) -> list[Finding]:
        """The checker's findings on this entry (it also follows settings changes and resets)."""
        with self._lock:
            return self.auditor.audit_entry(entry)
