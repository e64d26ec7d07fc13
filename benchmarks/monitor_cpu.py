"""Child process: the real callwatch app, headless, against a loopback simulator.

``python -m benchmarks.monitor_cpu --base-url URL --tasks N --cycles K`` prints
one JSON line: CPU seconds per changing cycle (the simulator's clock is moved
one second before each), per idle cycle (clock frozen), the share of a core
while idle at the default interval, changed cells per cycle, peak RSS, and the
answer time of key presses. CPU is ``getrusage(RUSAGE_SELF)`` of this process
only; the time spent asking the simulator to advance its clock is subtracted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from collections.abc import Callable
from typing import Any

from rich.console import RenderableType
from textual.pilot import Pilot
from textual.screen import Screen

from benchmarks.bench_sim import KEY, SECRET, advance, job_ids
from benchmarks.procstat import peak_rss_mb
from callwatch.api.client import ApiClient
from callwatch.api.signing import Secret
from callwatch.api.types import Credentials
from callwatch.monitor import Monitor
from callwatch.store.config import Config
from callwatch.tui.app import CallwatchApp

DEFAULT_INTERVAL = 5.0  # callwatch's default refresh interval
SIZE = (160, 50)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def wait_cycles(pilot: Pilot[int], app: CallwatchApp, target: int) -> None:
    deadline = time.monotonic() + 120
    while app.monitor.cycles < target:
        if time.monotonic() > deadline:
            raise RuntimeError("the monitor did not cycle")
        await asyncio.sleep(0.01)
    await pilot.pause()  # the cycle's changes reach the screen (a frame is composed)


async def timed_press(pilot: Pilot[int], key: str, changed: Callable[[], bool]) -> float:
    """Seconds from the key press until the first frame that shows its result.

    A frame is timed when Textual hands the composed update to its driver (headless
    here, so nothing is written: the time is the app's work, not the terminal's)."""
    app = pilot.app
    shown: list[float] = []
    original = app._display

    def display(screen: Screen[Any], renderable: RenderableType | None) -> None:
        if renderable is not None and not shown and changed():
            shown.append(time.perf_counter())
        original(screen, renderable)

    app._display = display  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        await pilot.press(key)
        deadline = t0 + 30
        while not shown and time.perf_counter() < deadline:
            await pilot.pause(0.01)
    finally:
        del app._display  # the class's method again
    return shown[0] - t0 if shown else float("inf")


async def measure(base_url: str, tasks: int, cycles: int, idle_seconds: float,
                  keys: bool) -> dict[str, Any]:
    client = ApiClient(Credentials(KEY, Secret(SECRET)), base_url=base_url)
    monitor = Monitor(client, interval=DEFAULT_INTERVAL)
    app = CallwatchApp(monitor, account="bench", profile=None, settings=Config(),
                       initial=job_ids(tasks), persist=False)
    out: dict[str, Any] = {"tasks": tasks}
    async with app.run_test(size=SIZE) as pilot:
        await wait_cycles(pilot, app, 1)
        for _ in range(2):  # warm-up: the planner learns the account, details arrive
            app.monitor.refresh_now()
            await wait_cycles(pilot, app, app.monitor.cycles + 1)
        assert app.main.table.row_count == tasks, app.main.table.row_count

        # Steady state with the clock frozen: past the throughput's 3 s minimum span,
        # every figure on screen (calls/min included) stands still.
        await asyncio.sleep(3.2)
        app.monitor.refresh_now()
        await wait_cycles(pilot, app, app.monitor.cycles + 1)

        # Idle cycles: the clock is frozen, nothing changes.
        table = app.main.table
        cells0 = table.cells_changed
        start_cycles, c0 = app.monitor.cycles, cpu()
        for _ in range(cycles):
            app.monitor.refresh_now()
            await wait_cycles(pilot, app, app.monitor.cycles + 1)
        done = app.monitor.cycles - start_cycles
        out["cpu_idle_cycle"] = (cpu() - c0) / done
        out["idle_cells"] = table.cells_changed - cells0

        # Left alone at the default interval: share of one core.
        c0, w0, n0 = cpu(), time.monotonic(), app.monitor.cycles
        await asyncio.sleep(idle_seconds)
        out["idle_core_share"] = (cpu() - c0) / (time.monotonic() - w0)
        out["idle_natural_cycles"] = app.monitor.cycles - n0

        # Changing cycles: the calling tenth of the tasks moves one second a cycle.
        spent_advancing = 0.0
        cells0 = table.cells_changed
        start_cycles, c0 = app.monitor.cycles, cpu()
        for _ in range(cycles):
            a0 = cpu()
            advance(base_url, 1.0)
            spent_advancing += cpu() - a0
            app.monitor.refresh_now()
            await wait_cycles(pilot, app, app.monitor.cycles + 1)
        done = app.monitor.cycles - start_cycles
        out["cpu_change"] = (cpu() - c0 - spent_advancing) / done
        out["cells_per_cycle"] = (table.cells_changed - cells0) / done

        if keys:
            row = table.cursor_row
            out["key_move"] = await timed_press(pilot, "j", lambda: table.cursor_row != row)
            sort = table.sort_key
            out["key_sort"] = await timed_press(pilot, "s", lambda: table.sort_key != sort)
            await pilot.press("slash")
            count = table.row_count
            out["key_filter"] = await timed_press(pilot, "7", lambda: table.row_count != count)
            out["key_filter_clear"] = await timed_press(
                pilot, "backspace", lambda: table.row_count == count)
        out["rss_mb"] = peak_rss_mb()
        app.exit(0)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--base-url", required=True)
    p.add_argument("--tasks", type=int, required=True)
    p.add_argument("--cycles", type=int, default=10)
    p.add_argument("--idle-seconds", type=float, default=10.0)
    p.add_argument("--keys", action="store_true")
    args = p.parse_args(argv)
    result = asyncio.run(measure(args.base_url, args.tasks, args.cycles, args.idle_seconds,
                                 args.keys))
    print("RESULT=" + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
