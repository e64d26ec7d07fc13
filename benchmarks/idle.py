"""Idle and start-up alone: the two figures of ``benchmarks.run`` that the TUI decides.

    python -m benchmarks.idle [--runs 3] [--seconds 30] [--tasks 1000] [--frames 0]
                              [--settle 12] [--dump PATH]

Idle: the real ``callwatch --all-active`` at the default interval in a 160x50
pseudo-terminal, against ``callwatch sim`` with its clock frozen (nothing changes), as
``benchmarks.run`` measures it: CPU share of the process and bytes written per 2 s.
``--dump`` writes the bytes of the last run's idle window, to see what was repainted.
``--frames N`` also times the first frame against the Textual hello-world (N runs).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks import pty_bench, startup
from benchmarks.livesim import FROZEN, callwatch_sim
from benchmarks.run import child_env

ROOT = Path(__file__).resolve().parent.parent
MARKERS = [b"june-promo-01", b"Quit"]
SETTLE = 12.0  # s: two cycles at the default interval, as benchmarks.run waits


def idle_once(tasks: int, seconds: float, dump: Path | None,
              settle: float = SETTLE) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, callwatch_sim(tasks, speed=FROZEN) as sim:
        cmd = [*startup.callwatch_command(), "--all-active"]
        run = pty_bench.spawn(cmd, child_env(tmp, sim.base_url), cwd=str(ROOT))
        try:
            run.wait_for(MARKERS)
            run.read(settle)
            c0 = pty_bench.cpu_seconds(run.proc.pid)
            start, w0 = len(run.output), time.monotonic()
            got = run.read(seconds)
            wall = time.monotonic() - w0
            share = (pty_bench.cpu_seconds(run.proc.pid) - c0) / wall
            if dump is not None:
                dump.write_bytes(bytes(run.output[start:]))
        finally:
            run.stop()
    return {"share": share, "bytes_per_2s": got / seconds * 2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=0, help="first-frame runs (0: none)")
    parser.add_argument("--dump", type=Path, default=None)
    parser.add_argument("--settle", type=float, default=SETTLE,
                        help="seconds after the first frame before measuring")
    args = parser.parse_args()
    for i in range(args.runs):
        fig = idle_once(args.tasks, args.seconds, args.dump, args.settle)
        print(f"idle run {i + 1}: {fig['share'] * 100:.2f}% of a core, "
              f"{fig['bytes_per_2s']:,.0f} B / 2 s", flush=True)
    if args.frames:
        with tempfile.TemporaryDirectory() as tmp:
            frames = startup.measure_frames(child_env(tmp), tmp, args.frames)
        demo = statistics.median(frames[startup.DEMO])
        hello = statistics.median(frames[startup.HELLO])
        for name in (startup.DEMO, startup.HELLO):
            runs = ", ".join(f"{t * 1000:.0f}" for t in frames[name])
            print(f"{name}: median {statistics.median(frames[name]) * 1000:.1f} ms ({runs})")
        print(f"first frame: {demo / hello:.2f}x hello-world")


if __name__ == "__main__":
    main()
