"""callwatch's performance on the workload users run, against baselines in the same run.

    python -m benchmarks.run [--quick | --long] [--sizes 1000,10000] [--output PATH]

Everything talks to ``callwatch sim`` itself (speed 1: about 5 in 6 active tasks move
between two refreshes) in its own process on loopback, except the first table (requests
per cycle against a naive poller, a simulator in a thread that counts every request).

1. requests per refresh cycle, and per cursor move (counted at the simulator);
2. the real app, built as the ``callwatch`` command builds it, started with
   ``--all-active`` (discovery included) and with the ids, ``--interval 2``, headless at
   160x50 in its own process: the first load; key presses at random moments of the cycle,
   each timed to the first frame that shows it; CPU per cycle over whole cycles (the
   cycles' real period too); RSS after the histories are full; cProfile's top lines;
3. floors measured in the same run: a bare Textual DataTable making the same changes, and
   the "physical floor" (the same list pages through ``json.loads`` and callwatch's parser);
4. idle at the default interval in a real pseudo-terminal: CPU share and bytes written;
5. start-up: first frame against a Textual hello-world, ``callwatch status ID`` against
   ``python -c "import httpx"``.

The default run takes about 15 minutes on 2 cores; histories fill after 64 cycles, so
RSS at 10,000 tasks is read after ``--long``'s cycles only (the default says how many
it had). ``--quick`` checks the benchmark itself at small sizes, not the product. The report
is printed and written to ``docs/PERFORMANCE.md`` with the machine it ran on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks import exporter, pty_bench, startup
from benchmarks.bench_sim import KEY, SECRET
from benchmarks.livesim import FIRST_ID, FROZEN, callwatch_sim
from benchmarks.report import report
from benchmarks.requests_per_cycle import Row
from benchmarks.requests_per_cycle import run as run_requests
from callwatch.monitor.history import HISTORY_POINTS

ROOT = Path(__file__).resolve().parent.parent
MODES = ("all-active", "ids")
HISTORY_FULL = HISTORY_POINTS + 30  # cycles: every history full, and then some


@dataclass
class Settings:
    label: str
    request_sizes: tuple[int, ...] = (10, 100, 1000, 10_000)
    sizes: tuple[int, ...] = (1000, 10_000)
    interval: float = 2.0
    cpu_seconds: float = 30.0
    probe_seconds: float = 45.0
    moves: int = 3
    profile_cycles: int = 3
    rss_cycles_upto: int = 1000  # sizes up to this run until histories are full
    floor_cycles: int = 10
    physical_cycles: int = 3
    idle_size: int = 1000
    # Four cycles at 5 s: the calls/min figures have appeared, and the toasts of the first
    # cycles' alerts (8 s on screen) have gone: what an operator leaves running.
    idle_settle: float = 20.0
    idle_seconds: float = 30.0
    status_runs: int = 11
    frame_runs: int = 11
    exporter_sizes: tuple[int, ...] = (1000,)
    exporter_cycles: int = 10


def quick() -> Settings:
    return Settings("quick (small sizes, short windows: checks the benchmark, not the "
                    "product)", request_sizes=(10, 100), sizes=(100,), interval=1.0,
                    cpu_seconds=2.0, probe_seconds=2.0, moves=1, profile_cycles=1,
                    rss_cycles_upto=0, floor_cycles=2, physical_cycles=1, idle_size=100,
                    idle_settle=0.5, idle_seconds=3.0, status_runs=1, frame_runs=1,
                    exporter_sizes=(30,), exporter_cycles=2)


def long() -> Settings:
    return Settings(f"long (RSS after {HISTORY_FULL} cycles at every size; longer windows)",
                    cpu_seconds=60.0, probe_seconds=90.0, moves=5, idle_seconds=60.0,
                    frame_runs=21,  # interleaved starts: machine noise averages out
                    rss_cycles_upto=sys.maxsize, floor_cycles=20)


@dataclass
class Results:
    settings: Settings
    machine: dict[str, str]
    requests: list[Row] = field(default_factory=list)
    live: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    bare: dict[int, dict[str, Any]] = field(default_factory=dict)  # the same data changes
    bare_shown: dict[int, dict[str, Any]] = field(default_factory=dict)  # callwatch's redraws
    exporter: list[dict[str, Any]] = field(default_factory=list)
    physical: dict[int, dict[str, Any]] = field(default_factory=dict)
    idle: dict[str, float] = field(default_factory=dict)
    frames: dict[str, list[float]] = field(default_factory=dict)
    status: dict[str, list[float]] = field(default_factory=dict)
    minutes: float = 0.0


def machine() -> dict[str, str]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"CPU": model, "cores": str(os.cpu_count()),
            "Python": platform.python_version(), "Textual": version("textual"),
            "OS": f"{platform.system()} {platform.release()}",
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")}


def child_env(tmp: str, base_url: str | None = None) -> dict[str, str]:
    """A fresh config and state folder for each child: nothing carries over (the app
    saves its watch list, which would change the next start)."""
    home = tempfile.mkdtemp(dir=tmp)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLWATCH_")}
    env.update(PYTHONPATH=str(ROOT), CALLWATCH_CONFIG_DIR=f"{home}/config",
               CALLWATCH_STATE_DIR=f"{home}/state",
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    if base_url is not None:
        env.update(CALLWATCH_API_KEY=KEY, CALLWATCH_API_SECRET=SECRET,
                   CALLWATCH_BASE_URL=base_url)
    return env


def run_child(args: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=3 * 3600)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT="):
            result: dict[str, Any] = json.loads(line.split("=", 1)[1])
            return result
    raise RuntimeError(f"{args[0]} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def measure_live(s: Settings, tmp: str, size: int, mode: str) -> dict[str, Any]:
    args = ["benchmarks.live_app", "--interval", str(s.interval),
            "--cpu-seconds", str(s.cpu_seconds), "--probe-seconds", str(s.probe_seconds),
            "--moves", str(s.moves),
            "--min-cycles", str(HISTORY_FULL if size <= s.rss_cycles_upto else 0)]
    args += ["--all-active"] if mode == "all-active" else ["--ids", str(size)]
    if mode == "all-active" and size == max(s.sizes):
        args += ["--profile-cycles", str(s.profile_cycles)]
    with callwatch_sim(size) as sim:
        return run_child([*args, "--base-url", sim.base_url], child_env(tmp, sim.base_url))


def data_changes(physical: dict[str, Any]) -> tuple[int, int]:
    """Rows and cells the bare table changes a cycle: those whose data changed between
    two of the simulator's cycles (what a table fed the same data must redraw)."""
    rows = physical["changed_rows"]
    return round(rows), round(rows * physical["cells_per_changed_row"])


def bare_table(s: Settings, tmp: str, size: int, rows: int, cells: int) -> dict[str, Any]:
    return run_child(["benchmarks.bare_table", "cpu", "--tasks", str(size), "--rows",
                      str(rows), "--cells", str(cells), "--cycles", str(s.floor_cycles),
                      "--interval", str(s.interval)], child_env(tmp))


def floor_changes(cpu: dict[str, Any]) -> tuple[int, int]:
    """Rows and cells callwatch's own run redrew a cycle (for the second bare table, the
    one changing only those). A figure the app does not expose is estimated (5 cells a
    changed row; 5 rows in 6)."""
    rows, cells = cpu["rows_per_cycle"], cpu["cells_per_cycle"]
    if rows is None:
        rows = cells / 5 if cells is not None else cpu["rows"] * 5 / 6
    if cells is None:
        cells = rows * 5
    return round(rows), round(cells)


def measure(s: Settings, log: Any = sys.stderr) -> Results:
    res = Results(s, machine())
    t0 = time.monotonic()

    def step(text: str) -> None:
        print(f"[{(time.monotonic() - t0) / 60:4.1f} min] {text}", file=log, flush=True)

    with tempfile.TemporaryDirectory(prefix="callwatch-bench-") as tmp:
        step("requests per cycle against a naive poller …")
        res.requests = run_requests(s.request_sizes)
        for size in s.sizes:
            for mode in MODES:
                step(f"the app, {size:,} tasks, {mode} …")
                res.live[(size, mode)] = measure_live(s, tmp, size, mode)
            with callwatch_sim(size) as sim:
                res.physical[size] = run_child(
                    ["benchmarks.physical_floor", "--base-url", sim.base_url,
                     "--cycles", str(s.physical_cycles), "--interval", str(s.interval)],
                    child_env(tmp, sim.base_url))
            rows, cells = data_changes(res.physical[size])
            step(f"bare tables, {size:,} tasks ({rows:,} rows, {cells:,} cells a cycle; "
                 "and only the cells callwatch redraws) …")
            res.bare[size] = bare_table(s, tmp, size, rows, cells)
            shown_rows, shown = floor_changes(res.live[(size, "all-active")]["cpu"])
            res.bare_shown[size] = bare_table(s, tmp, size, shown_rows, shown)
        step(f"idle at the default interval, {s.idle_size:,} tasks; status ID …")
        with callwatch_sim(s.idle_size, speed=FROZEN) as sim:
            res.idle = pty_bench.idle_figures(
                [*startup.callwatch_command(), "--all-active"], child_env(tmp, sim.base_url),
                [b"june-promo-01", b"Quit"], s.idle_settle, s.idle_seconds, cwd=str(ROOT))
            res.idle["tasks"] = s.idle_size
            res.status = startup.measure_status(child_env(tmp, sim.base_url), tmp, FIRST_ID,
                                                s.status_runs)
        step("time to first frame …")
        res.frames = startup.measure_frames(child_env(tmp), tmp, s.frame_runs)
        for size in s.exporter_sizes:
            step(f"the exporter against the TUI, {size:,} tasks …")
            res.exporter.append(exporter.measure(size, s.exporter_cycles,
                                                 interval=s.interval))
    step("done")
    return res


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default=None,
                   help="comma-separated task counts for the app (default 1000,10000); "
                        "also the sizes of the requests table")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--quick", action="store_true",
                     help="small sizes and short windows: checks the benchmark, not the "
                          "product (about a minute)")
    how.add_argument("--long", action="store_true",
                     help=f"RSS after {HISTORY_FULL} cycles at 10,000 tasks too, longer windows "
                          "(about 30 minutes on 2 cores)")
    p.add_argument("--output", default=str(ROOT / "docs" / "PERFORMANCE.md"),
                   help="where to write the report ('-' for nowhere)")
    args = p.parse_args(argv)
    s = quick() if args.quick else long() if args.long else Settings(
        "default (RSS at 10,000 tasks before the histories are full: see --long)")
    if args.sizes:
        s.sizes = tuple(int(x) for x in args.sizes.split(",") if x.strip())
        s.request_sizes = s.sizes
        s.idle_size = min(s.idle_size, max(s.sizes))
    started = dt.datetime.now()
    res = measure(s)
    res.minutes = (dt.datetime.now() - started).total_seconds() / 60
    text = report(res)
    print(text)
    if args.output != "-":
        Path(args.output).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
