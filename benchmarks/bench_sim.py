"""The benchmark's simulator: N active tasks, every tenth calling, the rest frozen.

Run as a separate process (``python -m benchmarks.bench_sim --tasks N``) so that
its CPU is never counted against the monitor. With ``--frozen`` the simulated
clock stands still until a client posts to ``/_sim/advance``; without it, time
runs and exactly the calling tenth of the tasks changes between refreshes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from callwatch.sim.app import SimConfig, SimState
from callwatch.sim.model import SimClock, SimJob

KEY, SECRET = "benchKey", "bench-secret-0123"
FIRST_ID = 5_000_600
CALLING_EVERY = 10  # one task in ten is calling; the rest wait for a start weeks away


def job_ids(tasks: int) -> list[int]:
    return list(range(FIRST_ID, FIRST_ID + tasks))


def bench_state(tasks: int, *, frozen: bool) -> SimState:
    # Frozen at the real time of start-up: the client's list window is real time.
    base = time.time()
    clock = SimClock((lambda: base) if frozen else time.time)
    state = SimState(SimConfig(keys={KEY: SECRET}, seed=3), clock=clock)
    for i, jid in enumerate(job_ids(tasks)):
        calling = i % CALLING_EVERY == 0
        state.add(SimJob(
            job_id=jid, name=f"bench-{jid}", created=base - 3600 + i * 0.01,
            num_cnt=5_000_000 if calling else 1000,
            # Calling tasks dial 7 numbers a second: every refresh moves their counters.
            start=base - 600 if calling else base + 30 * 86400,
            dial_rate=7.0, answer_ratio=0.6, talk_seconds=20))
    return state


def main(argv: list[str] | None = None) -> int:
    from callwatch.sim.server import free_port, make_server

    p = argparse.ArgumentParser()
    p.add_argument("--tasks", type=int, required=True)
    p.add_argument("--frozen", action="store_true")
    args = p.parse_args(argv)
    state = bench_state(args.tasks, frozen=args.frozen)
    port = free_port()
    server = make_server(state, "127.0.0.1", port)
    print(f"BASE_URL=http://127.0.0.1:{port}", flush=True)
    server.run()
    return 0


@dataclass
class SimProcess:
    base_url: str
    proc: subprocess.Popen[str]

    def advance(self, seconds: float) -> None:
        advance(self.base_url, seconds)

    def stats(self, clear: bool = False) -> dict[str, int]:
        req = urllib.request.Request(f"{self.base_url}/_sim/stats",
                                     method="POST" if clear else "GET")
        with urllib.request.urlopen(req, timeout=10) as resp:
            out: dict[str, int] = json.loads(resp.read())
        return out


def advance(base_url: str, seconds: float) -> None:
    req = urllib.request.Request(f"{base_url}/_sim/advance", method="POST",
                                 data=json.dumps({"seconds": seconds}).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


@contextmanager
def sim_process(tasks: int, *, frozen: bool) -> Iterator[SimProcess]:
    """The simulator in a child process on a free loopback port."""
    cmd = [sys.executable, "-m", "benchmarks.bench_sim", "--tasks", str(tasks)]
    if frozen:
        cmd.append("--frozen")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("BASE_URL="):
            raise RuntimeError(f"simulator did not start: {line!r}")
        base = line.strip().split("=", 1)[1]
        for _ in range(500):  # uvicorn binds after printing: wait until it answers
            try:
                with urllib.request.urlopen(f"{base}/_sim/stats", timeout=2):
                    break
            except OSError:
                time.sleep(0.02)
        yield SimProcess(base, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
