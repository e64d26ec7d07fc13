"""``callwatch sim`` itself, as a user starts it, in its own process on loopback.

Its dynamics are the ones users see: at speed 1 about 5 in 6 active tasks move between
two refreshes. The benchmark only fixes the port, the key and the seed. ``speed`` near
zero freezes it (the idle case: nothing on screen changes).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks.bench_sim import KEY, SECRET, SimProcess
from callwatch.sim.server import free_port

FIRST_ID = 5_000_600  # the simulator numbers its tasks from here
FROZEN = 1e-9  # simulated seconds per second: nothing moves while we measure


def sim_ids(jobs: int) -> list[int]:
    """The ids of ``callwatch sim --jobs N``'s tasks (what a user would pass)."""
    return list(range(FIRST_ID, FIRST_ID + jobs))


@contextmanager
def callwatch_sim(jobs: int, speed: float = 1.0, seed: int = 1) -> Iterator[SimProcess]:
    port = free_port()
    cmd = [sys.executable, "-m", "callwatch", "sim", "--jobs", str(jobs), "--port", str(port),
           "--speed", repr(speed), "--seed", str(seed), "--api-key", KEY,
           "--api-secret", SECRET]
    # The simulator prints its key and secret (its own, made up): nobody reads them.
    errors = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: it never fills up
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_sim/stats", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    errors.seek(0)
                    err = errors.read()
                    raise RuntimeError(f"callwatch sim did not start: {err[-2000:]}") from None
                time.sleep(0.05)
        yield SimProcess(base, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        errors.close()


def read_stats(base_url: str) -> dict[str, int]:
    """The simulator's request counters (counted at the server)."""
    with urllib.request.urlopen(f"{base_url}/_sim/stats", timeout=10) as resp:
        out: dict[str, int] = json.loads(resp.read())
    return out


def clear_stats(base_url: str) -> None:
    req = urllib.request.Request(f"{base_url}/_sim/stats", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()
