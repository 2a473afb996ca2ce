"""The live verdict of each call, one line on the terminal as the call ends.

    10:02:13.412 openflex PATCH /api/v1/vehicles/VEH-000012 dms@demo 200 2.1ms ✗ VIOLATION … R6 vin …

The request log's shape (`icarflex.mocks.common.request_log`), with the verdict after it.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TextIO

from icarflex.scenarios.checker import ATTEMPT, FAILING, REFUSAL_WITHOUT_RULE, UNJUDGED, Finding


def describe(entry: Mapping[str, Any], findings: list[Finding]) -> str:
    """What the contract says of this call, in a few words (French, for the integrator)."""
    failing = [f for f in findings if f.kind in FAILING]
    if failing:
        return "✗ VIOLATION laissée passer par la cible : " + "; ".join(_what(f) for f in failing)
    if entry.get("answered_by") == "proxy" and entry.get("verdict"):
        return "⛔ BLOQUÉ par le proxy (--enforce) : " + _verdict(entry)
    attempts = [f for f in findings if f.kind == ATTEMPT]
    if attempts:
        return "· refusé par la cible, à bon droit : " + "; ".join(_what(f) for f in attempts)
    odd = [f for f in findings if f.kind == REFUSAL_WITHOUT_RULE]
    if odd:
        return "? refus sans règle enfreinte : " + "; ".join(_what(f) for f in odd)
    unjudged = [f.message for f in findings if f.kind == UNJUDGED] or (
        [entry["unjudged"]] if entry.get("unjudged") else [])
    if unjudged:
        return "? " + "; ".join(unjudged)
    if entry.get("verdict") and not findings:  # a write `check` does not audit (an order's price, R7)
        if 200 <= int(entry.get("status") or 0) < 300:
            return "✗ VIOLATION laissée passer par la cible : " + _verdict(entry)
        return "· refusé par la cible, à bon droit : " + _verdict(entry)
    if entry.get("answered_by") == "proxy":
        response = entry.get("response") or {}
        return f"⚠ {response.get('code', '')} {response.get('detail', '')}".rstrip()
    if not entry.get("judged"):
        return ""
    if 200 <= int(entry.get("status") or 0) < 300:
        return "✓ conforme"
    code = (entry.get("response") or {}).get("code") if isinstance(entry.get("response"), dict) else None
    return f"· refusé par la cible ({code or entry.get('status')}), aucune règle du contrat en cause"


def _verdict(entry: Mapping[str, Any]) -> str:
    parts = ((v.get("rule") or v.get("code"), v.get("field"), "—", v.get("message"))
             for v in entry["verdict"])
    return "; ".join(" ".join(p for p in part if p) for part in parts)


def _what(finding: Finding) -> str:
    where = finding.field or finding.row or ""
    return f"{finding.rule or finding.code or ''} {where} — {finding.message}".strip()


class LiveLog:
    """Writes one line per call to `stream` (the CLI's standard output)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def __call__(self, entry: Mapping[str, Any], findings: list[Finding]) -> None:
        who = f"{entry['actor']}@{entry['dealer']}" if entry.get("actor") else "-"
        query = f"?{entry['query']}" if entry.get("query") else ""
        line = " ".join(p for p in (
            datetime.now().strftime("%H:%M:%S.%f")[:-3], str(entry.get("system")), entry["method"],
            entry["path"] + query, who, str(entry["status"]), f"{entry.get('elapsed_ms', 0):.1f}ms",
            describe(entry, findings)) if p)
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                pass  # the reader of a pipe went away: relaying goes on
