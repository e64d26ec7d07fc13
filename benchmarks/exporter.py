"""The exporter's request budget against the TUI's, and how fast ``/metrics`` answers.

    python -m benchmarks.exporter [--tasks 1000[,10000]] [--cycles 10] [--interval 2]

For each size, ``callwatch sim --jobs N`` (speed 1: real dynamics) runs in its own
process on loopback, twice, fresh each time (same seed: the same account):

1. the real ``callwatch exporter --all-active --interval 2`` as a subprocess, credentials
   in its environment. Once it watches every active task and two more cycles have run,
   the simulator's counters are cleared at the end of a cycle and read at the end of N
   more (cycle ends seen in its ``callwatch_refresh_cycles_total``). Meanwhile
   ``/metrics`` is fetched over HTTP about five times a cycle, at random moments, each
   timed from the request to the body's last byte;
2. the TUI, built as ``callwatch --all-active --interval 2`` builds it, headless
   (``benchmarks.tui_requests``), counted the same way over the same number of cycles.

``measure`` and ``render`` (section 8 of docs/PERFORMANCE.md) are what
``benchmarks.run`` calls; ``target_row`` gives the two rows of its targets table.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import re
import select
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from benchmarks.live_app import active_total
from benchmarks.livesim import callwatch_sim, clear_stats, read_stats

INTERVAL = 2.0
SCRAPES_PER_CYCLE = 5
RENDER_TARGET = 0.05  # s: the "/metrics renders in < 50 ms"
ENDPOINTS = ("query", "detail", "balance")  # the simulator's counters, by endpoint
Result = dict[str, Any]
Target = tuple[str, str, str, bool | None]  # figure, measured, target, met (report.py's)


class Exporter:
    """A running ``callwatch exporter``: its URL, and a scrape that says where it is."""

    def __init__(self, url: str) -> None:
        self.url = url

    def scrape(self) -> tuple[float, bytes]:
        t0 = time.perf_counter()
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=120) as resp:
            body: bytes = resp.read()
        return time.perf_counter() - t0, body


def gauge(body: bytes, name: str) -> float:
    """A series without labels other than ``profile`` (the account's), from a scrape."""
    found = re.search(rb"^" + name.encode() + rb"\{[^}]*\} (\S+)$", body, re.M)
    if found is None:
        raise RuntimeError(f"{name} missing from /metrics")
    return float(found.group(1))


def cycles_of(body: bytes) -> int:
    return int(gauge(body, "callwatch_refresh_cycles_total"))


@contextmanager
def exporter_process(env: dict[str, str], interval: float) -> Iterator[Exporter]:
    """The real command on any free loopback port (it prints the address once serving)."""
    cmd = [sys.executable, "-m", "callwatch", "exporter", "--all-active",
           "--interval", f"{interval:g}", "--listen", "127.0.0.1:0"]
    errors = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: it never fills up
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True, env=env)
    try:
        out: IO[str] | None = proc.stdout
        assert out is not None
        ready, _, _ = select.select([out], [], [], 120)
        line = out.readline() if ready else ""
        found = re.search(r"serving (http://\S+)/metrics", line)
        if found is None:
            errors.seek(0)
            raise RuntimeError(f"callwatch exporter did not start: {line!r} "
                               f"{errors.read()[-2000:]}")
        yield Exporter(found.group(1))
    finally:
        proc.terminate()  # SIGTERM: the exporter's own clean exit
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        errors.close()


def _scrape_until(ex: Exporter, cycles: int, interval: float, rng: random.Random,
                  samples: list[tuple[float, int]] | None = None,
                  timeout: float = 600.0) -> int:
    """Scrape at random moments (``SCRAPES_PER_CYCLE`` a cycle on average) until the
    exporter has ended ``cycles`` cycles; returns its count then."""
    deadline = time.monotonic() + timeout
    gap = interval / SCRAPES_PER_CYCLE
    while True:
        seconds, body = ex.scrape()
        if samples is not None:
            samples.append((seconds, len(body)))
        done = cycles_of(body)
        if done >= cycles:
            return done
        if time.monotonic() > deadline:
            raise RuntimeError(f"the exporter ended {done} cycles, not {cycles}")
        time.sleep(rng.uniform(0.5, 1.5) * gap)


def measure_exporter(env: dict[str, str], base_url: str, expect: int, cycles: int,
                     interval: float, rng: random.Random) -> Result:
    with exporter_process(env, interval) as ex:
        deadline = time.monotonic() + 600
        while True:  # discovery: every active task watched, after a whole cycle
            _, body = ex.scrape()
            if cycles_of(body) >= 1 and gauge(body, "callwatch_watched_tasks") >= expect:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the exporter did not watch every active task")
            time.sleep(0.2)
        first = _scrape_until(ex, cycles_of(body) + 2, interval, rng)
        clear_stats(base_url)
        samples: list[tuple[float, int]] = []
        last = _scrape_until(ex, first + cycles, interval, rng, samples)
        stats = read_stats(base_url)
        watched = int(gauge(ex.scrape()[1], "callwatch_watched_tasks"))
    return {"cycles": last - first, "stats": stats, "watched": watched,
            "seconds": [s for s, _ in samples], "bytes": [b for _, b in samples]}


def measure(tasks: int = 1000, cycles: int = 10, *, interval: float = INTERVAL,
            seed: int = 1) -> Result:
    """Both counts and the ``/metrics`` timings at one size (each with a fresh sim)."""
    # Imported here: benchmarks.run imports this module (a cycle at import time).
    from benchmarks.run import child_env, run_child

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="callwatch-bench-") as tmp:
        with callwatch_sim(tasks) as sim:
            expect = asyncio.run(active_total(sim.base_url))
            exporter = measure_exporter(child_env(tmp, sim.base_url), sim.base_url,
                                        expect, cycles, interval, rng)
        with callwatch_sim(tasks) as sim:
            tui = run_child(["benchmarks.tui_requests", "--base-url", sim.base_url,
                             "--cycles", str(cycles), "--interval", f"{interval:g}"],
                            child_env(tmp, sim.base_url))
    return {"tasks": tasks, "active": expect, "cycles": cycles, "interval": interval,
            "exporter": exporter, "tui": tui}


def per_cycle(side: Result) -> dict[str, float]:
    """Requests a cycle, all and by endpoint, as the simulator counted them."""
    n = max(1, side["cycles"])
    stats: dict[str, int] = side["stats"]
    return {k: stats.get(k, 0) / n for k in ("requests", *ENDPOINTS)}


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest rank, as ``report.pct`` (not imported: the report will import this)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _size(n: float) -> str:
    return f"{n / 1e6:,.2f} MB" if n >= 1e6 else f"{n / 1e3:,.0f} kB"


def _requests(side: Result) -> str:
    c = per_cycle(side)
    extra = f", balance {c['balance']:.1f}" if c["balance"] else ""
    return f"{c['requests']:.1f} (list {c['query']:.1f}, detail {c['detail']:.1f}{extra})"


def budget_met(result: Result) -> bool:
    """The same planner: the same list pages a cycle; anything the exporter sends beyond
    them no more than the TUI does (whose selected row adds its detail)."""
    exp, tui = per_cycle(result["exporter"]), per_cycle(result["tui"])
    return abs(exp["query"] - tui["query"]) < 0.5 and exp["requests"] <= tui["requests"]


def row(result: Result) -> str:
    exp, tui = per_cycle(result["exporter"]), per_cycle(result["tui"])
    times, sizes = result["exporter"]["seconds"], result["exporter"]["bytes"]
    ratio = exp["requests"] / tui["requests"] if tui["requests"] else float("nan")
    timing = " | ".join(_ms(quantile(times, q)) for q in (0.5, 0.9)) + f" | {_ms(max(times))}"
    return (f"| {result['tasks']:,} ({result['active']:,} active) "
            f"| {_requests(result['exporter'])} | {_requests(result['tui'])} | {ratio:.2f} "
            f"| {timing} | {len(times)} | {_size(quantile(sizes, 0.5))} |")


def render_many(results: Sequence[Result]) -> list[str]:
    if not results:
        return []
    first = results[0]
    return [
        "", "## 8. Exporter", "",
        f"`callwatch sim --jobs N` (speed 1) in its own process, started fresh for each of "
        f"the two: the real `callwatch exporter --all-active --interval "
        f"{first['interval']:g}` as a subprocess, then the TUI built as `callwatch "
        f"--all-active --interval {first['interval']:g}` builds it, headless "
        "(`benchmarks.tui_requests`; its cursor on the first row, as a user starts it). "
        "Each is counted at the simulator over whole cycles after discovery (from the end "
        f"of one cycle to the end of {first['cycles']} more; the exporter's cycle ends "
        "read from its `callwatch_refresh_cycles_total`). The TUI's selected row adds its "
        "detail when that task is unfinished; the exporter has no selection. `/metrics`: "
        f"fetched over HTTP about {SCRAPES_PER_CYCLE} times a cycle at random moments "
        "during the counted cycles, each timed by the client from the request to the "
        "body's last byte; bytes uncompressed (median).", "",
        "| tasks | exporter requests/cycle | TUI requests/cycle | ratio | /metrics p50 "
        "| p90 | max | n | bytes |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(row(r) for r in results)]


def render(result: Result) -> list[str]:
    """Section 8 of the report: the explanation and the table (one row)."""
    return render_many([result])


def target_row(result: Result) -> list[Target]:
    """The targets table's rows: the request budget, and ``/metrics`` (p90) < 50 ms."""
    n = f"{result['tasks']:,} tasks"
    exp, tui = per_cycle(result["exporter"]), per_cycle(result["tui"])
    times = result["exporter"]["seconds"]
    p90 = quantile(times, 0.9) if times else None
    return [
        (f"exporter requests/cycle vs the TUI's, {n}",
         f"{exp['requests']:.1f} vs {tui['requests']:.1f} (list pages {exp['query']:.1f} "
         f"vs {tui['query']:.1f})",
         "equal list pages, no more in all (the TUI's selected row adds a detail)",
         budget_met(result)),
        (f"/metrics render, {n} (client-side p90, HTTP included)",
         "–" if p90 is None else f"{_ms(p90)} (max {_ms(max(times))})",
         "< 50 ms", None if p90 is None else p90 < RENDER_TARGET),
    ]


def _met(ok: bool | None) -> str:
    return "not measured" if ok is None else "yes" if ok else "**no**"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.exporter", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", default="1000", help="comma-separated sizes (default 1000)")
    p.add_argument("--cycles", type=int, default=10, help="cycles counted (default 10)")
    p.add_argument("--interval", type=float, default=INTERVAL)
    a = p.parse_args(argv)
    sizes = [int(x) for x in a.tasks.split(",") if x.strip()]
    results = [measure(n, a.cycles, interval=a.interval) for n in sizes]
    lines = render_many(results)
    lines += ["", "| figure | measured | target | target met |", "| --- | --- | --- | --- |"]
    for r in results:
        lines += [f"| {f} | {m} | {t} | {_met(ok)} |" for f, m, t, ok in target_row(r)]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
