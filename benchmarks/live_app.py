"""Child process: the real callwatch app against ``callwatch sim``, as a user starts it.

``python -m benchmarks.live_app --base-url URL (--all-active | --ids N) [...]`` builds the
app exactly as the ``callwatch`` command does (its parser, its start-up), runs it headless
at 160x50 and prints one ``RESULT=`` JSON line:

- *load*: seconds from start to the first frame showing every active task (``--all-active``:
  discovery included) or every row with data (ids); keys pressed meanwhile;
- *cpu*: over whole cycles at the given interval (start-to-start as the app schedules
  it), ``getrusage`` of this process against wall time, cycles, requests counted at the
  simulator, rows and cells changed;
- *keys*: cursor moves at random moments across the cycle, each timed to its frame;
- *moves*: requests the simulator receives for one cursor move (nothing else asks);
- *profile*: cProfile's top lines over a few cycles (``--profile-cycles``);
- *rss*: after ``--min-cycles`` cycles (histories fill at 64), more driven back-to-back;
  then *cpu_full*, CPU per cycle again with the histories full.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import marshal
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from benchmarks.bench_sim import KEY, SECRET
from benchmarks.keyprobe import KeyProber
from benchmarks.livesim import clear_stats, read_stats, sim_ids
from benchmarks.profiles import top_lines
from callwatch.api.client import ApiClient, Credentials, TimeWindow
from callwatch.api.models import ACTIVE_STATES
from callwatch.api.signing import Secret
from callwatch.cli.monitor_cmd import _build_app, _startup_gc, build_parser
from callwatch.monitor import TaskView
from callwatch.tui.app import CallwatchApp

SIZE = (160, 50)
SHOWCASE = 12  # callwatch sim's first tasks: one of each state


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set of this process."""
    now = peak = 0.0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                now = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return now, peak


async def active_total(base_url: str) -> int:
    """Unfinished tasks in the account, as the list reports them (one request)."""
    async with ApiClient(Credentials(KEY, Secret(SECRET)), base_url=base_url) as client:
        page = await client.query(TimeWindow.last(30), ACTIVE_STATES, 1, 1)
    return page.total


class GcTimer:
    """CPU spent in the garbage collector while inside (gc's own callbacks)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.runs = 0
        self.full = 0.0  # of which in full collections (the oldest generation)
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.process_time()
        else:
            spent = time.process_time() - self._start
            self.seconds += spent
            self.runs += 1
            if info.get("generation") == 2:
                self.full += spent

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


class CycleLog:
    """Each cycle's start, end and changed rows, seen by wrapping the monitor's cycle
    and its updates; a cycle's end also wakes whoever waits for it (polling often would
    cost the app's process CPU)."""

    def __init__(self, app: CallwatchApp) -> None:
        self.entries: list[tuple[float, float, int]] = []
        self.ended = asyncio.Event()
        self._changed = 0
        self.active = 0  # cycles running now
        mon = app.monitor
        cycle: Callable[[], Awaitable[None]] = mon._cycle
        publish: Callable[..., None] = mon.publish

        async def counted_cycle() -> None:
            t0, before = time.perf_counter(), self._changed
            self.active += 1
            try:
                await cycle()
            finally:
                self.active -= 1
            self.entries.append((t0, time.perf_counter(), self._changed - before))
            self.ended.set()

        def counted_publish(changed: Iterable[TaskView], *args: Any, **kwargs: Any) -> None:
            changed = tuple(changed)
            self._changed += len(changed)
            publish(changed, *args, **kwargs)

        mon._cycle = counted_cycle  # type: ignore[method-assign]
        mon.publish = counted_publish  # type: ignore[method-assign]


LIST_PATH = "/group/call/query"


class PageTap:
    """The list pages the app receives in a CPU window, for the physical floor of that
    very window: each cycle's pages are handed, as the cycle ends, to a process of its
    own (``benchmarks.floor_parse --serve``: a fresh heap) that times ``json.loads`` and
    the parser over them then and there. The floor and the window see the same records
    in the same minutes: on a shared machine the same parse takes a third longer in one
    minute than in another, so a floor timed later compares other conditions."""

    def __init__(self, app: CallwatchApp) -> None:
        self.app = app
        self.cycles: dict[int, list[bytes]] = {}
        self.on = False
        self._worker: asyncio.subprocess.Process | None = None
        self._dir = ""
        sender = app.monitor.client._sender
        send = sender.send

        async def tapped(method: str, path: str, *args: Any) -> Any:
            reply = await send(method, path, *args)
            if self.on and path.endswith(LIST_PATH):
                # counted once all of a cycle's requests ended: the cycle in progress
                self.cycles.setdefault(app.monitor.cycles, []).append(reply.content)
            return reply

        sender.send = tapped  # type: ignore[method-assign,assignment]

    async def start(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="callwatch-floor-")
        self._worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.floor_parse", "--serve",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        self.cycles, self.on = {}, True

    async def hand_over(self) -> None:
        """The cycles that ended go to the worker (a file each: ~2 MB at 10,000 tasks,
        about a millisecond of this process's CPU, counted against the app)."""
        worker = self._worker
        assert worker is not None and worker.stdin is not None
        ended = self.app.monitor.cycles
        for n in sorted(k for k in self.cycles if k < ended):
            path = os.path.join(self._dir, f"{n}.pages")
            with open(path, "wb") as f:
                marshal.dump(self.cycles.pop(n), f)
            worker.stdin.write(f"{path}\n".encode())
        await worker.stdin.drain()

    async def floor(self) -> dict[str, Any]:
        """The worker's figures for the cycles that ended (one still running is partial
        and dropped): the mean CPU per cycle, as the window's own figure is a mean."""
        self.on = False
        await self.hand_over()
        worker, self._worker = self._worker, None
        assert worker is not None and worker.stdin is not None
        worker.stdin.close()
        out, _ = await worker.communicate()
        self.cycles = {}
        shutil.rmtree(self._dir, ignore_errors=True)
        for line in out.decode().splitlines():
            if line.startswith("RESULT="):
                result: dict[str, Any] = json.loads(line.split("=", 1)[1])
                return result
        raise RuntimeError("benchmarks.floor_parse gave no result")


async def until(check: Callable[[], bool], timeout: float, what: str,
                wake: asyncio.Event | None = None, poll: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        if wake is None:
            await asyncio.sleep(poll)
            continue
        wake.clear()
        if check():
            return
        try:
            await asyncio.wait_for(wake.wait(), poll)
        except TimeoutError:
            pass


async def cycle_end(app: CallwatchApp, log: CycleLog, timeout: float = 300.0) -> int:
    """Wait for the next cycle to end (woken by it, else found by polling twice a
    second); returns the cycle count."""
    n = app.monitor.cycles
    await until(lambda: app.monitor.cycles > n, timeout, "a refresh cycle", log.ended, 0.5)
    return app.monitor.cycles


async def measure_cpu(app: CallwatchApp, log: CycleLog, base_url: str,
                      seconds: float, tap: PageTap | None = None) -> dict[str, Any]:
    """CPU over whole cycles, from the end of one to the end of another; with ``tap``,
    also the physical floor of the window's own list pages (timed after it)."""
    table = app.main.table
    await cycle_end(app, log)
    if tap is not None:
        await tap.start()
    await asyncio.to_thread(clear_stats, base_url)
    n0, c0, w0, e0 = app.monitor.cycles, cpu(), time.perf_counter(), len(log.entries)
    cells0 = getattr(table, "cells_changed", 0)
    with GcTimer() as collections:
        while time.perf_counter() - w0 < seconds:
            await cycle_end(app, log)
            if tap is not None:
                await tap.hand_over()
    n, c, w = app.monitor.cycles - n0, cpu() - c0, time.perf_counter() - w0
    requests = (await asyncio.to_thread(read_stats, base_url)).get("requests", 0)
    entries = log.entries[e0:]
    starts = [s for s, _, _ in entries]
    floor = await tap.floor() if tap is not None else {}
    return {
        "floor": floor,
        "cycles": n, "cpu": c, "wall": w, "cpu_per_cycle": c / n, "share": c / w,
        "period": (starts[-1] - starts[0]) / (len(starts) - 1) if len(starts) > 1 else w / n,
        "requests_per_cycle": requests / n,
        "rows_per_cycle": sum(r for _, _, r in entries) / len(entries) if entries else None,
        "cells_per_cycle": (getattr(table, "cells_changed", 0) - cells0) / n
        if hasattr(table, "cells_changed") else None,
        "rows": table.row_count,
        "gc_per_cycle": collections.seconds / n, "gc_runs": collections.runs,
        "gc_full_per_cycle": collections.full / n,
    }


async def settle_requests(base_url: str, quiet: float = 1.5, timeout: float = 120.0) -> int:
    """Requests the simulator received, once none has come for ``quiet`` seconds."""
    last, since = -1, time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        n = (await asyncio.to_thread(read_stats, base_url)).get("requests", 0)
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
        await asyncio.sleep(0.1)
    return last


async def measure_moves(app: CallwatchApp, log: CycleLog, prober: KeyProber, base_url: str,
                        moves: int) -> list[int]:
    """Requests per cursor move, with the refresh interval out of the way. Each move goes
    down to a row never selected before, so its task has no detail yet."""
    mon = app.monitor
    interval = mon.interval
    mon.interval = 3600.0  # the loop now waits an hour (a new interval applies at once)
    await until(lambda: log.active == 0, 300.0, "the last cycle's end", log.ended, 0.5)
    # The probes left the cursor on the first or the second row. Moves not counted put it
    # past both, and past the simulator's first twelve tasks (one of each state: a
    # finished task's detail is known already, and a move onto it asks for nothing).
    past = max(2, min(SHOWCASE, app.main.table.row_count - moves - 1))
    for _ in range(past):
        if prober.shown_row >= past:
            break
        await asyncio.to_thread(prober.press, "j")
    await settle_requests(base_url)
    out: list[int] = []
    for _ in range(moves):
        await asyncio.to_thread(clear_stats, base_url)
        await asyncio.to_thread(prober.press, "j")
        out.append(await settle_requests(base_url))
    mon.interval = interval
    mon.refresh_now()  # back to the usual rhythm
    await cycle_end(app, log)
    return out


async def profile_cycles(app: CallwatchApp, log: CycleLog, cycles: int) -> list[str]:
    prof = cProfile.Profile(time.process_time)  # CPU, not the waits of a loaded machine
    await cycle_end(app, log)
    prof.enable()
    for _ in range(cycles):
        await cycle_end(app, log)
    prof.disable()
    if dump := os.environ.get("BENCH_PROFILE_OUT"):
        prof.dump_stats(dump)  # for a closer look (pstats, snakeviz)
    return top_lines(prof)


async def fill_histories(app: CallwatchApp, log: CycleLog, cycles: int) -> None:
    """Cycles back-to-back until ``cycles`` have run (one history sample each)."""
    while app.monitor.cycles < cycles:
        app.monitor.refresh_now()
        await cycle_end(app, log)


async def measure(a: argparse.Namespace) -> dict[str, Any]:
    ids = sim_ids(a.ids) if a.ids else []
    expect = await active_total(a.base_url) if a.all_active else len(ids)
    argv = ["--interval", str(a.interval), *(["--all-active"] if a.all_active else [])]
    t_start = time.perf_counter()
    with _startup_gc():
        app = _build_app(build_parser().parse_args(argv), ids)
    log = CycleLog(app)
    out: dict[str, Any] = {"mode": "all-active" if a.all_active else "ids", "expect": expect}
    # Pressing from the first frame that shows a row on: run_test() itself returns only
    # once the first refresh has been applied (the app waits for it before its first frame).
    prober = KeyProber(app)
    prober.install()
    loaded = prober.first_frame_when(
        lambda: app.monitor.cycles >= 1 and app.main.table.row_count >= expect)
    prober.start()
    async with app.run_test(size=SIZE):
        await until(lambda: bool(loaded), a.load_timeout, "every task on screen", poll=0.05)
        out["load_keys"] = await prober.stop()
        out["load"] = loaded[0] - t_start
        for _ in range(2):
            await cycle_end(app, log)
        tap = PageTap(app)
        out["cpu"] = await measure_cpu(app, log, a.base_url, a.cpu_seconds, tap)
        prober.start()
        await asyncio.sleep(a.probe_seconds)
        out["keys"] = await prober.stop()
        out["moves"] = await measure_moves(app, log, prober, a.base_url, a.moves)
        if a.profile_cycles:
            out["profile"] = await profile_cycles(app, log, a.profile_cycles)
        if a.min_cycles:
            await fill_histories(app, log, a.min_cycles)
            out["rss"], out["rss_peak"] = rss_mb()
            # The per-task work grows with the histories: CPU again, now they are full.
            out["cpu_full"] = await measure_cpu(app, log, a.base_url, a.cpu_seconds, tap)
        else:
            out["rss"], out["rss_peak"] = rss_mb()
        out["cycles"] = app.monitor.cycles
        app.exit(0)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--base-url", required=True)
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--all-active", action="store_true")
    mode.add_argument("--ids", type=int, default=0, help="watch the first N ids")
    p.add_argument("--interval", type=float, default=2.0)
    p.add_argument("--cpu-seconds", type=float, default=30.0)
    p.add_argument("--probe-seconds", type=float, default=45.0)
    p.add_argument("--moves", type=int, default=3)
    p.add_argument("--profile-cycles", type=int, default=0)
    p.add_argument("--min-cycles", type=int, default=0)
    p.add_argument("--load-timeout", type=float, default=600.0)
    result = asyncio.run(measure(p.parse_args(argv)))
    print("RESULT=" + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
