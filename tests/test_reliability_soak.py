"""The soak at CI length: 2 minutes of chaos against 1,000 tasks, every check passing.

``scripts/soak.py`` does the work in a child interpreter (its RSS is the monitor's
and the simulator's, not pytest's); this test asserts each of its checks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "soak.py"
FAULT_CLASSES = ("http_503", "slow", "drop", "malformed", "truncated", "rate_limit",
                 "internal")


@pytest.mark.soak
def test_soak_ci_length(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--minutes", "2", "--tasks", "1000", "--faults", "chaos",
         "--read-timeout", "0.5", "--pause", "0.02", "--json", str(out)],
        capture_output=True, text=True, timeout=175, check=False)
    print(proc.stdout)
    assert out.exists(), proc.stderr[-3000:]
    report = json.loads(out.read_text())
    failed = [c for c in report["checks"] if not c["ok"]]
    assert not failed, failed
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    # The same checks, spelt out.
    assert report["raised"] == 0 and "internal" not in report["kinds"]
    assert report["cycles"] >= 100
    for fault in FAULT_CLASSES:
        assert report["faults"][f"fault_{fault}"] > 0
        (burst,) = [b for b in report["bursts"] if b["fault"] == fault]
        assert burst["cycles"] >= 2 and burst["seen"] == burst["cycles"]
    assert report["faults"]["fault_skew"] > 0 and report["kinds"]["clock_skew"] > 0
    (skew,) = [b for b in report["bursts"] if b["fault"] == "skew"]
    assert skew["seen"] == skew["cycles"] >= 2
    assert report["rss_warm_kb"] > 0
    assert report["rss_end_kb"] < report["rss_warm_kb"] * 1.10
    assert report["converge_cycles"] in (1, 2) and not report["mismatches"]
    assert "SOAK PASSED" in proc.stdout


@pytest.mark.soak
def test_soak_tui_banner_shows_each_fault_class(tmp_path: Path) -> None:
    """The real Textual app, headless, with its own poll worker: its banner names each
    fault class while it lasts, it never stops, converges, and q quits at once. Short:
    the app's rate-limit backoff (up to 16x a 1 s interval) sets the pace."""
    out = tmp_path / "soak-tui.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--ui", "tui", "--minutes", "0.25", "--tasks", "1000",
         "--faults", "chaos", "--read-timeout", "0.5", "--burst-cycles", "1",
         "--no-rss-check", "--json", str(out)],
        capture_output=True, text=True, timeout=170, check=False)
    print(proc.stdout)
    assert out.exists(), proc.stderr[-3000:]
    report = json.loads(out.read_text())
    failed = [c for c in report["checks"] if not c["ok"]]
    assert not failed, failed
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {b["fault"] for b in report["bursts"]} == {*FAULT_CLASSES, "skew"}
    assert all(b["seen"] == b["cycles"] >= 1 for b in report["bursts"])
    assert report["quit_seconds"] < 1.0
    assert report["converge_cycles"] in (1, 2)
