"""The benchmark runs end to end (behaviour only: no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e


def test_quick_benchmark_prints_the_table(tmp_path: Path) -> None:
    out = tmp_path / "PERFORMANCE.md"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--sizes", "10",
                           "--output", str(out)], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    text = out.read_text()
    assert text.strip() == proc.stdout.strip()
    for heading in ("Requests per refresh cycle", "CPU and memory", "first full frame",
                    "Bytes written to the terminal"):
        assert heading in text
    assert "| 10 | 2 | 10 |" in text  # 10 tasks: one list page + the selected task's detail
    assert "Textual | " in text and "cores | " in text
    assert str(ROOT) not in text  # no absolute path of this machine
