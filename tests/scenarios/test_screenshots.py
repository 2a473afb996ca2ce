"""The README's screenshots are made by a script of the repository: it runs and writes both PNGs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from icarflex.scenarios import browser

SCRIPT = Path(__file__).parents[2] / "docs" / "screenshots.py"


@pytest.mark.browser
@pytest.mark.skipif(not browser.available(), reason="Debian's chromium is not installed")
def test_the_screenshot_script_writes_the_dashboard_and_the_report(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    for name in ("dashboard.png", "report.png"):
        png = (tmp_path / name).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 50_000, name
