"""The proxy benchmark keeps working: at a tiny size it prints the overhead line (figures not judged)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_proxy_benchmark_prints_the_overhead_side_by_side(tmp_path: Path) -> None:
    figures = tmp_path / "proxy.json"
    out = subprocess.run([sys.executable, "-m", "benchmarks.proxy", "--calls", "5", "--json", str(figures)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "proxy overhead per call (p50): GET +" in out.stdout and "direct p50" in out.stdout, out.stdout
    assert set(json.loads(figures.read_text())) == {"GET direct", "GET proxy", "PATCH direct", "PATCH proxy"}
