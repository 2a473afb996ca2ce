"""Drift: does the target's active API VO parameterization say what the run expects?

Before replaying, the runner reads the target's `GET /settings/api-vo` and compares
it, row by row, with the contract laid under `--profile` (`load_profile`). Every
row that differs is named (id, guide label, expected and found value); so is a row
the target does not publish and one it publishes that the contract does not know.
Any drift fails the run.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from icarflex.contracts import ApiVoSettings, Contract
from icarflex.contracts.profile import SECTIONS, ProfileError, parse_overlay


@dataclass(frozen=True)
class DriftRow:
    row: str
    label: str
    expected: bool | None
    found: bool | None
    note: str = ""

    def describe(self) -> str:
        if self.expected is None:
            return f"{self.row}{self.note}"
        found = "absent" if self.found is None else _oui_non(self.found)
        expected = "inconnu du contrat" if self.expected is None else _oui_non(self.expected)
        return f"{self.row} ({self.label}) : attendu {expected}, trouvé {found}{self.note}"

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "label": self.label, "expected": self.expected, "found": self.found,
                "note": self.note}


def _oui_non(value: bool) -> str:
    return "OUI" if value else "NON"


def compare(expected: ApiVoSettings, document: Any) -> list[DriftRow]:
    """Every row where the target's settings `document` differs from `expected`, in the guide's order."""
    contract = expected.contract
    if not isinstance(document, Mapping):
        return [DriftRow("(document)", "GET /settings/api-vo", None, None, " : réponse illisible")]
    unknown, values = _parse(contract, document)
    rows = []
    for row in contract.parameterization.rows:
        found = values.get(row.id)
        if found != expected[row.id]:
            rows.append(DriftRow(row.id, row.label, expected[row.id], found))
    return rows + unknown


def _parse(contract: Contract, document: Mapping[str, Any]) -> tuple[list[DriftRow], dict[str, bool]]:
    """The target's values by row id, and a drift row for everything the contract cannot read."""
    unknown: list[DriftRow] = []
    values: dict[str, bool] = {}
    for section in SECTIONS:
        for row_id, raw in (document.get(section) or {}).items():
            try:
                values.update(parse_overlay(contract, {section: {row_id: raw}}, "target"))
            except ProfileError as exc:
                unknown.append(DriftRow(f"{section}.{row_id}", row_id, None, None,
                                        f" : {exc.problems[0][1]}"))
    return unknown, values
