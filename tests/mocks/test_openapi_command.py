"""`python -m icarflex.mocks.openapi` writes both fakes' documents, with no app and no store."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from icarflex.mocks.openapi import documents


def test_the_one_command_writes_both_documents_and_checks_them(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "icarflex.mocks.openapi", "--check"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr  # the checked-in copies are current
    assert {path.name for path in documents()} == {"openflex.json", "icar.json"}
    assert not list(tmp_path.iterdir())  # no store file left behind (no app was built)
