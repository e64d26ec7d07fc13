"""Child process: the TUI's requests per refresh cycle, counted at the simulator.

``python -m benchmarks.tui_requests --base-url URL --cycles N [--interval S]`` builds the
app exactly as ``callwatch --all-active --interval S`` does (its parser, its start-up,
as ``benchmarks.live_app`` builds it), runs it headless at 160x50 and, once every
active task is on screen and two more cycles have run, counts the simulator's requests
from the end of one cycle to the end of N more. Prints one ``RESULT=`` JSON line with
the cycles and the simulator's counters (``requests``, ``query``, ``detail``, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from benchmarks.live_app import SIZE, CycleLog, active_total, cycle_end, until
from benchmarks.livesim import clear_stats, read_stats
from callwatch.cli.monitor_cmd import _build_app, _startup_gc, build_parser


async def measure(base_url: str, cycles: int, interval: float,
                  load_timeout: float = 600.0) -> dict[str, Any]:
    expect = await active_total(base_url)
    argv = ["--interval", f"{interval:g}", "--all-active"]
    with _startup_gc():
        app = _build_app(build_parser().parse_args(argv), [])
    log = CycleLog(app)
    async with app.run_test(size=SIZE):
        await until(lambda: app.monitor.cycles >= 1 and app.main.table.row_count >= expect,
                    load_timeout, "every task on screen", log.ended, 0.5)
        for _ in range(2):  # past discovery, as the exporter's count is
            await cycle_end(app, log)
        await asyncio.to_thread(clear_stats, base_url)
        first = app.monitor.cycles
        for _ in range(cycles):
            await cycle_end(app, log)
        stats = await asyncio.to_thread(read_stats, base_url)
        out = {"cycles": app.monitor.cycles - first, "stats": stats, "active": expect,
               "watched": len(app.monitor.watched)}
        app.exit(0)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tui_requests")
    p.add_argument("--base-url", required=True)
    p.add_argument("--cycles", type=int, default=10)
    p.add_argument("--interval", type=float, default=2.0)
    a = p.parse_args(argv)
    result = asyncio.run(measure(a.base_url, a.cycles, a.interval))
    print("RESULT=" + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
