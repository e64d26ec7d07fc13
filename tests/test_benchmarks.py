"""The benchmark runs end to end (behaviour only: no timing is asserted)."""

from __future__ import annotations

import json
import re
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
    for heading in ("Targets", "Requests", "Keys and the first load", "CPU per refresh cycle",
                    "Memory", "Idle", "Start-up", "Profile: 10 tasks, all-active", "Exporter",
                    "The bare tables' changes a cycle"):
        assert heading in text
    assert "Mode: quick" in text
    assert "| 10 | 2 | 10 |" in text  # 10 tasks: one list page + the selected task's detail
    assert "Textual | " in text and "cores | " in text
    # One target row per figure of the issues' tables (the exporter's two too), each answered.
    targets = text.split("## Targets", 1)[1].split("\n## ", 1)[0]
    assert len(re.findall(r"\| (yes|\*\*no\*\*|not measured) \|$", targets, re.M)) == 12
    assert "exporter requests/cycle vs the TUI's, 30 tasks" in targets
    # Both starts of the app ran, with keys timed and requests counted at the simulator.
    for mode in ("all-active", "ids"):
        row = re.search(rf"^\| 10 \| {mode} \| (\d+\.\d) \| ([\d, ]+) \|$", text, re.M)
        assert row is not None, mode
        assert float(row.group(1)) >= 1  # at least the list page
    keys = re.search(r"^\| 10 \| all-active \| [\d.]+ s \|.*\| (\d+) \|$", text, re.M)
    assert keys is not None and int(keys.group(1)) > 0
    assert str(ROOT) not in text  # no absolute path of this machine


def test_profile_lines_name_files_without_a_path_of_this_machine() -> None:
    import cProfile
    import json

    from benchmarks.profiles import top_lines
    from callwatch.api.models import parse_page

    body = {"code": 0, "msg": "ok", "data": {"records": [
        {"jobId": 5_000_600 + i, "taskName": f"t{i}", "status": 1} for i in range(50)],
        "total": 50, "size": 100, "current": 1, "pages": 1}}
    prof = cProfile.Profile()
    prof.enable()
    parse_page(json.loads(json.dumps(body)))
    prof.disable()
    lines = top_lines(prof)
    assert any("callwatch/api/models.py" in line for line in lines)
    for line in lines:
        assert str(ROOT) not in line and "site-packages" not in line
        assert not re.search(r"\s/\w", line), line  # no absolute path at all


def test_percentiles_are_nearest_rank() -> None:
    from benchmarks.report import pct

    sample = [float(n) for n in range(1, 101)]
    assert (pct(sample, 0.5), pct(sample, 0.9), pct(sample, 0.99)) == (50.0, 90.0, 99.0)
    assert pct([7.0], 0.99) == 7.0


def test_the_floor_worker_times_each_cycle_handed_over_but_the_first(tmp_path: Path) -> None:
    """``floor_parse --serve``: a cycle a file, read as it comes; the first warms the
    memo and is not counted; each file is deleted once read."""
    import marshal

    from benchmarks.floor_parse import serve

    page = (ROOT / "tests" / "fixtures" / "query-page.json").read_bytes()
    paths = []
    for n in range(3):
        path = tmp_path / f"{n}.pages"
        path.write_bytes(marshal.dumps([page, page]))
        paths.append(f"{path}\n")
    result = serve(["\n", *paths])  # a blank line is skipped
    records = 2 * len(json.loads(page)["data"]["records"])
    assert result["cycles"] == 2 and result["records"] == records > 0
    assert 0 < result["min"] <= result["median"] and result["cpu_per_cycle"] > 0
    assert not list(tmp_path.iterdir())
    assert serve(paths[:0]) == {}  # nothing handed over: no figure (the report fails it)


def test_a_timed_start_ends_only_when_the_programs_children_have_gone() -> None:
    """As ``--demo``'s simulator: in its own session, it ends a moment after its parent
    dies (its stdin's end of file); the next timed start must not share the CPU with it."""
    from benchmarks import pty_bench

    child = ("import sys, time; sys.stdin.read(); time.sleep(0.5)")
    parent = ("import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', "
              f"{child!r}], stdin=subprocess.PIPE, start_new_session=True); "
              "print('child', p.pid, flush=True); p.wait()")
    run = pty_bench.spawn([sys.executable, "-c", parent], {"PATH": "/usr/bin:/bin"})
    run.wait_for([b"child "])
    while not re.search(rb"child (\d+)\r?\n", run.output):
        run.read(0.05)
    found = re.search(rb"child (\d+)", run.output)
    assert found is not None
    pid = int(found.group(1))
    assert pty_bench.descendants(run.proc.pid) == [pid]
    run.stop()
    assert not pty_bench._alive(pid)
