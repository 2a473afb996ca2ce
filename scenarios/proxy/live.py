"""The live verdict of each call, one line on the terminal as the call ends.

    10:02:13.412  dms            PATCH /api/v1/vehicles/V000012 → 200   12.3 ms  ✗ VIOLATION R6 vin …
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, TextIO

from icarflex.scenarios.checker import ATTEMPT, FAILING, REFUSAL_WITHOUT_RULE, UNJUDGED, Finding


def describe(entry: Mapping[str, Any], findings: list[Finding]) -> str:
    """What the contract says of this call, in a few words (French, for the integrator)."""
    failing = [f for f in findings if f.kind in FAILING]
    if failing:
        return "✗ VIOLATION laissée passer par la cible : " + "; ".join(_what(f) for f in failing)
    if entry.get("answered_by") == "proxy" and entry.get("verdict"):
        return "⛔ BLOQUÉ par le proxy (--enforce) : " + "; ".join(
            f"{v.get('rule') or v.get('code')} {v.get('field') or ''} {v.get('message')}".replace("  ", " ")
            for v in entry["verdict"])
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
    if entry.get("answered_by") == "proxy":
        response = entry.get("response") or {}
        return f"⚠ {response.get('code', '')} {response.get('detail', '')}".rstrip()
    if not entry.get("judged"):
        return ""
    if 200 <= int(entry.get("status") or 0) < 300:
        return "✓ conforme"
    code = (entry.get("response") or {}).get("code") if isinstance(entry.get("response"), dict) else None
    return f"· refusé par la cible ({code or entry.get('status')}), aucune règle du contrat en cause"


def _what(finding: Finding) -> str:
    where = finding.field or finding.row or ""
    return f"{finding.rule or finding.code or ''} {where} — {finding.message}".strip()


class LiveLog:
    """Writes one line per call to `stream` (the CLI's standard output)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def __call__(self, entry: Mapping[str, Any], findings: list[Finding]) -> None:
        at = str(entry.get("at") or "")[11:23]
        query = f"?{entry['query']}" if entry.get("query") else ""
        line = (f"{at}  {entry.get('actor') or '(inconnu)':<14} {entry['method']} {entry['path']}{query} "
                f"→ {entry['status']}  {entry.get('elapsed_ms', 0):7.1f} ms  {describe(entry, findings)}")
        with self._lock:
            self.stream.write(line.rstrip() + "\n")
            self.stream.flush()
