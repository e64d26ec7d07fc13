"""Start-up: the first frame against a Textual hello-world, and a one-shot command
against ``python -c "import httpx"``; medians of interleaved runs (hyperfine-like).

Both sides run with bytecode caches, as a pip install leaves them: a private cache folder
(``PYTHONPYCACHEPREFIX``) keeps the checkout clean, and one untimed start fills it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import pty_bench

ROOT = Path(__file__).resolve().parent.parent
DEMO, HELLO = "callwatch --demo", "hello"
COLD = "callwatch --demo, no bytecode cache"
STATUS, IMPORT_HTTPX = "callwatch status ID", 'python -c "import httpx"'


def warm_env(env: dict[str, str], tmp: str) -> dict[str, str]:
    warm = {**env, "PYTHONPYCACHEPREFIX": f"{tmp}/pycache"}
    warm.pop("PYTHONDONTWRITEBYTECODE", None)
    return warm


def callwatch_command() -> list[str]:
    """The ``callwatch`` script that pip installed next to this Python, if any."""
    script = Path(sys.executable).parent / "callwatch"
    return [str(script)] if script.exists() else [sys.executable, "-m", "callwatch"]


def measure_frames(env: dict[str, str], tmp: str, runs: int) -> dict[str, list[float]]:
    """Also timed, for the record: callwatch compiled from source at every start, as
    under PYTHONDONTWRITEBYTECODE with an editable install."""
    warm = warm_env(env, tmp)
    cold = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    cold.pop("PYTHONPYCACHEPREFIX", None)
    demo = [sys.executable, "-m", "callwatch", "--demo"]
    hello = [sys.executable, "-m", "benchmarks.hello"]
    demo_marks, hello_marks = [b"june-promo-01", b"Quit"], [b"Hello, World!", b"Quit"]
    for cmd, marks in ((demo, demo_marks), (hello, hello_marks)):
        pty_bench.first_frame(cmd, warm, marks, cwd=str(ROOT))  # fills the cache
    out: dict[str, list[float]] = {DEMO: [], HELLO: [], COLD: []}
    for _ in range(runs):  # interleaved: drift in the machine hits both alike
        out[DEMO].append(pty_bench.first_frame(demo, warm, demo_marks, cwd=str(ROOT)))
        out[HELLO].append(pty_bench.first_frame(hello, warm, hello_marks, cwd=str(ROOT)))
        out[COLD].append(pty_bench.first_frame(demo, cold, demo_marks, cwd=str(ROOT)))
    return out


def wall(cmd: Sequence[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(list(cmd), env=env, cwd=ROOT, capture_output=True, timeout=120)
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[-2:]} failed ({proc.returncode}): "
                           f"{proc.stderr.decode(errors='replace')[-1000:]}")
    return took


def measure_status(env: dict[str, str], tmp: str, job_id: int,
                   runs: int) -> dict[str, list[float]]:
    """``callwatch status ID`` (env credentials, one detail request to the simulator)."""
    warm = warm_env(env, tmp)
    status = [*callwatch_command(), "status", str(job_id)]
    baseline = [sys.executable, "-c", "import httpx"]
    for cmd in (status, baseline):
        wall(cmd, warm)  # fills the cache
    out: dict[str, list[float]] = {STATUS: [], IMPORT_HTTPX: []}
    for _ in range(runs):
        out[STATUS].append(wall(status, warm))
        out[IMPORT_HTTPX].append(wall(baseline, warm))
    return out
