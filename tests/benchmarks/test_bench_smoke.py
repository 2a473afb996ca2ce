"""The benchmark script keeps working: run at tiny sizes, it prints every figure issue 6 asks for.

The figures themselves are measured by hand (`python -m benchmarks.bench`), never judged here.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_prints_every_figure_at_tiny_sizes(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench", "--seconds", "1", "--runs", "1",
                          "--vehicles", "2", "--skip-prism", "--json", str(figures)],
                         cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    for line in ("cold start of `icarflex serve`", "fake/bare =", "peak RSS", "--workers 2 on PostgreSQL",
                 "in-process replay of every workflow", "replay of 2 vehicles"):
        assert line in out.stdout, (line, out.stdout)
    assert figures.exists()
