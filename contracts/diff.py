"""`icarflex diff`: what changed between two dealers' API VO parameterizations.

Every row of the parameterization (guide §2) grants the DMS something when it is OUI:
a field it may write, a capability, a setting (master data flow, sale prices ≤ 1).
So a row going OUI → NON is *breaking* for a DMS connector, NON → OUI is not. Field
rows are judged on the DMS's effective right (`ApiVoSettings.dms_may_modify`): while
"Flux API VO prioritaire" is OUI the DMS is master and a per-field flip takes nothing
away. Exit status 1 when anything breaks, so CI can gate on it.
"""
from __future__ import annotations

import json
import sys
from argparse import Namespace
from dataclasses import asdict, dataclass
from typing import Any

from icarflex.contracts.models import Contract, ContractError, ParameterRow, load_contract
from icarflex.contracts.profile import MASTER_SETTING, ApiVoSettings, load_profile


@dataclass(frozen=True)
class DiffRow:
    """One row whose value differs between parameterization A and B."""

    id: str
    kind: str
    label: str
    value_a: bool
    value_b: bool
    breaking: bool
    reason: str      # French, for the integrator
    reason_en: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def diff_settings(contract: Contract, a: ApiVoSettings, b: ApiVoSettings) -> list[DiffRow]:
    """The rows whose value differs from A to B, in the guide's order, each classified."""
    return [_classify(contract, row, a, b) for row in contract.parameterization.rows
            if a[row.id] != b[row.id]]


def is_breaking(rows: list[DiffRow]) -> bool:
    return any(row.breaking for row in rows)


def _classify(contract: Contract, row: ParameterRow, a: ApiVoSettings, b: ApiVoSettings) -> DiffRow:
    if row.kind == "field":
        return _classify_field(contract, row, a, b)
    lost = a[row.id] and not b[row.id]
    noun_fr, noun_en = ("capacité", "capability") if row.kind == "capability" else ("réglage", "setting")
    if lost:
        effect = row.off_effect or "le DMS perd ce droit"
        reason = f"{noun_fr} « {row.label} » passe à NON : {effect}"
        reason_en = f"{noun_en} {row.id} switched off: the DMS connector loses what it granted"
    else:
        reason = f"{noun_fr} « {row.label} » passe à OUI : le DMS obtient ce droit"
        reason_en = f"{noun_en} {row.id} switched on: the DMS connector gains what it grants"
    return _row(row, a, b, lost, reason, reason_en)


def _classify_field(contract: Contract, row: ParameterRow, a: ApiVoSettings, b: ApiVoSettings) -> DiffRow:
    before, after = a.dms_may_modify(row.id), b.dms_may_modify(row.id)
    if before and not after:
        reason = f"le DMS perd le droit de modifier « {row.label} » (dms_modifiable OUI → NON)"
        reason_en = f"the DMS loses the right to write {row.id} (dms_modifiable true → false)"
    elif after and not before:
        reason = f"le DMS obtient le droit de modifier « {row.label} » (dms_modifiable NON → OUI)"
        reason_en = f"the DMS gains the right to write {row.id} (dms_modifiable false → true)"
    else:
        master = contract.rows[MASTER_SETTING].label
        reason = f"sans effet pour le DMS : « {master} » est à OUI, le DMS est maître des données"
        reason_en = f"no effect on the DMS: {MASTER_SETTING} is on, the DMS is master of the data"
    return _row(row, a, b, before and not after, reason, reason_en)


def _row(row: ParameterRow, a: ApiVoSettings, b: ApiVoSettings, breaking: bool,
         reason: str, reason_en: str) -> DiffRow:
    return DiffRow(row.id, row.kind, row.label, a[row.id], b[row.id], breaking, reason, reason_en)


def format_text(rows: list[DiffRow], name_a: str, name_b: str) -> str:
    lines = [f"A : {name_a}", f"B : {name_b}"]
    if not rows:
        return "\n".join([*lines, "Aucune différence de paramétrage."]) + "\n"
    table = [("id", "type", "A", "B", "cassant", "raison")]
    table += [(r.id, r.kind, _yes_no(r.value_a), _yes_no(r.value_b), "OUI" if r.breaking else "non", r.reason)
              for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(5)]
    lines += ["  ".join(line[i].ljust(widths[i]) for i in range(5)) + "  " + line[5] for line in table]
    breaking = sum(r.breaking for r in rows)
    lines.append(f"{len(rows)} ligne(s) diffèrent, dont {breaking} cassante(s) pour un connecteur DMS.")
    return "\n".join(lines) + "\n"


def format_json(rows: list[DiffRow], name_a: str, name_b: str) -> str:
    return json.dumps({"profile_a": name_a, "profile_b": name_b, "breaking": is_breaking(rows),
                       "rows": [r.to_json() for r in rows]}, ensure_ascii=False, indent=2) + "\n"


def _yes_no(value: bool) -> str:
    return "OUI" if value else "NON"


def cli(args: Namespace) -> int:
    """`icarflex diff PROFILE_A PROFILE_B [--format text|json]`: 1 when breaking, 2 on a bad profile."""
    try:
        contract = load_contract()
        a = load_profile(args.profile_a, contract)
        b = load_profile(args.profile_b, contract)
    except ContractError as exc:  # ProfileError is one; its message names the row
        print(exc, file=sys.stderr)
        return 2
    rows = diff_settings(contract, a, b)
    render = format_json if args.format == "json" else format_text
    sys.stdout.write(render(rows, args.profile_a, args.profile_b))
    return 1 if is_breaking(rows) else 0
