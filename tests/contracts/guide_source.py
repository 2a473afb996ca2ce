"""The guide itself, as the reference the contract is compared with.

`guide_seed/000_914820182660a162.txt` is a copy of the project's seed (bee2link « Guide
interface ICAR DMS », the text the contract traces); the project's shared folder is not in
the repository, so the copy is. Tests read §1 and §2 from it, never from the contract.
"""
from __future__ import annotations

from pathlib import Path

SEED = Path(__file__).parent / "guide_seed" / "000_914820182660a162.txt"
TABLE_START, TABLE_END = "## 2. Paramétrage API VO", "# 3. Process métier : particulier / professionnels"


def seed_lines() -> list[str]:
    return SEED.read_text(encoding="utf-8").splitlines()


def seed_section(start: str, end: str) -> list[str]:
    """The seed's lines after the line `start` up to the line `end` (both excluded)."""
    lines = seed_lines()
    first = lines.index(start) + 1
    return lines[first:lines.index(end, first)]


def seed_table() -> list[list[str]]:
    """The §2 « Paramétrage API VO » rows: label, OUI/NON, comment."""
    return [line.split("\t") for line in seed_section(TABLE_START, TABLE_END)
            if line.count("\t") == 2 and line.split("\t")[1] in ("OUI", "NON")]
