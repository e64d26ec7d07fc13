"""The benchmark's report (Markdown): the targets first, then every figure behind them."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from benchmarks import exporter, startup
from callwatch.monitor.history import HISTORY_POINTS

if TYPE_CHECKING:
    from benchmarks.run import Results

BIG = 10_000  # the size most targets are set at
KEY_TARGET = 0.1


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def yes(good: bool | None) -> str:
    return "not measured" if good is None else "yes" if good else "**no**"


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank) of a non-empty sample."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def keys_cell(values: Sequence[float]) -> str:
    if not values:
        return "– | – | – | – | 0"
    return " | ".join([*(ms(pct(values, q)) for q in (0.5, 0.9, 0.99)), ms(max(values)),
                       str(len(values))])


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


Target = tuple[str, str, str, bool | None]  # figure, measured, target, met


def targets(res: Results) -> list[Target]:
    """One row for each figure of the issue's table, and the cycle period."""
    live = res.live
    out: list[Target] = []
    big = [v for (n, _), v in live.items() if n == BIG]
    if big:
        worst = max(pct(v["keys"], 0.99) if v["keys"] else float("inf") for v in big)
        out.append(("key → frame, 10,000 tasks, any moment of the cycle (worst p99 of the "
                    "two starts)", ms(worst), "p99 < 100 ms", worst < KEY_TARGET))
    else:
        out.append(("key → frame, 10,000 tasks", "–", "p99 < 100 ms", None))
    load = live.get((BIG, "all-active"))
    if load is not None:
        keys = load["load_keys"]
        worst_key = max(keys) if keys else 0.0
        during = (f"slowest of {len(keys)} keys {ms(worst_key)}" if keys else
                  "no row on screen before (one wait)")
        out.append(("first `--all-active` load, 10,000: all watched; keys meanwhile",
                    f"{load['load']:.2f} s; {during}",
                    "≤ 3 s; keys < 100 ms", load["load"] <= 3 and worst_key < KEY_TARGET))
    else:
        out.append(("first `--all-active` load, 10,000", "–", "≤ 3 s; keys < 100 ms", None))
    for n, bare_max, label in ((BIG, 0.5, "10,000 active"), (1000, 0.3, "1,000")):
        runs = [v for (size, _), v in live.items() if size == n]  # both starts
        if not runs or n not in res.bare:
            out.append((f"CPU per cycle, {label}", "–", f"≤ {bare_max}× bare", None))
            continue
        # The worst window of either start (--all-active or ids), as for keys and RSS.
        windows = [v[k] for v in runs for k in ("cpu", "cpu_full") if k in v]
        c = max(w["cpu_per_cycle"] for w in windows)
        bare = res.bare[n]["cpu_change"]
        if n == BIG:
            floors = [floor_of(res, n, w) for w in windows]  # 0: none measured
            x_phys = max(w["cpu_per_cycle"] / f if f else math.inf
                         for w, f in zip(windows, floors, strict=True))
            out.append((f"CPU per cycle, {label}, real dynamics, --interval 2 (worst "
                        "window of the two starts)",
                        f"{bare and c / bare:.2f}× bare, {x_phys:.2f}× physical",
                        "≤ 0.5× bare, ≤ 3× physical", c <= 0.5 * bare and x_phys <= 3))
        else:
            out.append((f"CPU per cycle, {label}, same (worst window)",
                        f"{bare and c / bare:.2f}× bare",
                        "≤ 0.3× bare", c <= 0.3 * bare))
    out.append(rss_target(res))
    idle = res.idle
    out.append((f"idle at the default interval ({idle['tasks']:,} tasks)",
                f"{idle['share'] * 100:.2f}% of a core, {idle['bytes_per_2s']:,.0f} B / 2 s",
                "< 0.5%, < 100 B", idle["share"] < 0.005 and idle["bytes_per_2s"] < 100))
    first = median(res.frames[startup.DEMO]) / median(res.frames[startup.HELLO])
    out.append(("first frame vs a Textual hello-world", f"{first:.2f}×", "≤ 1.1×",
                first <= 1.1))
    st = median(res.status[startup.STATUS]) / median(res.status[startup.IMPORT_HTTPX])
    out.append(("`status ID` vs `python -c \"import httpx\"`", f"{st:.2f}×", "≤ 1.5×",
                st <= 1.5))
    moves = [m for v in live.values() for m in v["moves"]]
    out.append(("requests for a cursor move (most, any run)",
                str(max(moves)) if moves else "–", "≤ 1", max(moves) <= 1 if moves else None))
    for result in res.exporter:
        out += exporter.target_row(result)
    periods = [v["cpu"]["period"] for v in live.values()]
    slowest, interval = max(periods, default=0.0), res.settings.interval
    out.append((f"cycle period at --interval {interval:g}, start-to-start (slowest run)",
                f"{slowest:.2f} s", f"≤ {interval * 1.1:.1f} s",
                slowest <= 1.1 * interval if periods else None))
    return out


def floor_of(res: Results, n: int, window: dict[str, Any]) -> float:
    """The physical floor of a CPU window: of its very list pages when the app kept them
    (``benchmarks.live_app``), else of a fresh simulator's (``benchmarks.physical_floor``)."""
    own = window.get("floor") or {}
    fresh = res.physical.get(n, {}).get("cpu_per_cycle", 0.0)
    return float(own.get("cpu_per_cycle") or fresh)


def rss_target(res: Results) -> Target:
    runs = [v for (n, _), v in res.live.items() if n == BIG]
    if not runs:
        return ("RSS, 10,000, histories full", "–", "≤ 120 MB", None)
    worst = max(runs, key=lambda v: v["rss"])
    measured = f"{worst['rss']:.0f} MB after {worst['cycles']} cycles"
    if worst["cycles"] < HISTORY_POINTS:  # a sample a cycle: full after that many
        return ("RSS, 10,000, histories full", measured + " (not full: run --long)",
                "≤ 120 MB", None)
    return ("RSS, 10,000, histories full", measured, "≤ 120 MB", worst["rss"] <= 120)


def report(res: Results) -> str:
    s = res.settings
    lines = ["# Performance", "",
             "Measured by `python -m benchmarks.run` against `callwatch sim` (speed 1) in its "
             "own process on loopback; every ratio is against a baseline measured in the same "
             "run. The headless app's frames are timed when Textual hands them to its driver.",
             "", f"Mode: {s.label}; took {res.minutes:.0f} min.", "",
             "| machine | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in res.machine.items()]
    lines += ["", "## Targets", "", "| figure | measured | target | target met |",
              "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {yes(d)} |" for a, b, c, d in targets(res)]
    lines += requests_section(res) + keys_section(res) + cpu_section(res)
    lines += memory_section(res) + idle_section(res) + startup_section(res)
    lines += profile_section(res)
    if res.exporter:
        lines += exporter.render_many(res.exporter)
    return "\n".join(lines)


def requests_section(res: Results) -> list[str]:
    lines = ["", "## 1. Requests (counted at the simulator)", "",
             "Per cycle, watching N active tasks by id (plus the selected task's detail), "
             "against a naive poller sending one detail per task:", "",
             "| watched active tasks | callwatch | naive | ratio |",
             "| ---: | ---: | ---: | ---: |"]
    for r in res.requests:
        lines.append(f"| {r.tasks:,} | {r.callwatch} | {r.naive:,} | {r.ratio:.3f} |")
    lines += ["", "In the app runs (real dynamics; all-active lists every page, discovery "
              "included). A cursor move goes down to a row never selected, past the simulator's "
              "first twelve tasks, with the refresh interval out of the way; a move onto a "
              "finished task, whose detail is known already, needs no request:", "",
              "| tasks | start | requests / cycle | requests per cursor move |",
              "| ---: | --- | ---: | --- |"]
    for (n, mode), v in res.live.items():
        lines.append(f"| {n:,} | {mode} | {v['cpu']['requests_per_cycle']:.1f} "
                     f"| {', '.join(map(str, v['moves'])) or '–'} |")
    return lines


def keys_section(res: Results) -> list[str]:
    lines = ["", "## 2. Keys and the first load", "",
             "Cursor moves (`j`/`k`) pressed from another thread as a terminal's input "
             "arrives, at random moments (a random 0.05–0.5 s after the last answer), so "
             "uniformly across the refresh cycle; each timed from the press to the first "
             "frame that shows the cursor moved. *Load*: from building the app to the first "
             "frame with every active task (all-active) or every row's data (ids); keys "
             "pressed meanwhile are timed the same way, from the first frame that shows a "
             "row (n = 0: no row was on screen before every task was).", "",
             "| tasks | start | load | keys during load: p50 | p90 | p99 | max | n "
             "| keys in the cycle: p50 | p90 | p99 | max | n |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
             "| ---: | ---: |"]
    for (n, mode), v in res.live.items():
        lines.append(f"| {n:,} | {mode} | {v['load']:.2f} s | {keys_cell(v['load_keys'])} "
                     f"| {keys_cell(v['keys'])} |")
    return lines


def cpu_section(res: Results) -> list[str]:
    s = res.settings
    lines = ["", f"## 3. CPU per refresh cycle (--interval {s.interval:g})", "",
             "`getrusage` of the app's process over whole cycles (about "
             f"{s.cpu_seconds:.0f} s), against the wall time; the period is the cycles' "
             "real start-to-start. *Bare*: a Textual DataTable of the same size, on a timer "
             "at the same interval (its 1 s clock label included, as the app's header clock "
             "is), changing the cells whose data changed between two of the simulator's "
             "cycles (rows whose record changed × the columns whose value changed: state, "
             "progress, called/total, OK, fail, answer rate, and calls/min and ETA when the "
             "numbers dialled moved), as any table fed the same data must. The targets are "
             "against it. *Bare, redraws*: the same table changing only as many cells as "
             "callwatch itself redrew (the ones on screen), for the record: it is not a "
             "baseline, since callwatch's own savings set its size. *Physical*: only "
             "`json.loads` and callwatch's `parse_page` over the very list pages the app "
             "received in that window, timed in a process of its own (`benchmarks.floor_parse "
             "--serve`: a fresh heap) as each cycle ends, so in the same minutes as the "
             "app's cycles: the mean CPU of a cycle's pages, the first cycle only warming "
             "the parser's memo (on a shared machine the same parse takes a third more "
             "CPU in one minute than in another, so a floor timed at another moment "
             "compares other conditions). "
             "The floor of a fresh simulator's first pages is below, for comparison. Runs "
             "that go on until the histories are full measure again then (the CPU targets "
             "take the worst window of both starts). *GC*: CPU "
             "in the garbage collector, part of the CPU per cycle.", "",
             "| tasks | start | cycles | period | CPU / cycle | GC | core share | rows / cycle "
             "| cells / cycle | bare | × bare | bare, redraws | physical | × physical |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
             "| ---: | ---: | ---: |"]
    runs = [(n, mode, v["cpu"]) for (n, mode), v in res.live.items()]
    runs += [(n, f"{mode}, histories full", v["cpu_full"])
             for (n, mode), v in res.live.items() if "cpu_full" in v]
    for n, mode, c in sorted(runs, key=lambda r: (r[0], r[1])):
        bare = res.bare.get(n, {}).get("cpu_change", 0.0)
        shown = res.bare_shown.get(n, {}).get("cpu_change", 0.0)
        phys = floor_of(res, n, c)
        rows = "–" if c["rows_per_cycle"] is None else f"{c['rows_per_cycle']:,.0f}"
        cells = "–" if c["cells_per_cycle"] is None else f"{c['cells_per_cycle']:,.0f}"
        gc = "–" if c.get("gc_per_cycle") is None else ms(c["gc_per_cycle"])
        lines.append(
            f"| {n:,} | {mode} | {c['cycles']} | {c['period']:.2f} s "
            f"| {ms(c['cpu_per_cycle'])} | {gc} | {c['share'] * 100:.1f}% | {rows} | {cells} "
            f"| {ms(bare)} | {c['cpu_per_cycle'] / bare if bare else 0:.2f}× | {ms(shown)} "
            f"| {ms(phys)} | {c['cpu_per_cycle'] / phys if phys else 0:.2f}× |")
    lines += ["", "The bare tables' changes a cycle:", "",
              "| tasks | same data: rows | cells | redraws: rows | cells |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    for n in sorted(res.bare):
        b, r = res.bare[n], res.bare_shown.get(n, {})
        lines.append(f"| {n:,} | {b['rows']:,} | {b['cells']:,} | {r.get('rows', 0):,} "
                     f"| {r.get('cells', 0):,} |")
    lines += ["", "The physical floor of a fresh simulator's first cycles (`python -m "
              "benchmarks.physical_floor`, a process of its own), for comparison with the "
              "windows' own:", "", "| tasks | records | CPU / cycle |", "| ---: | ---: | ---: |"]
    for n in sorted(res.physical):
        p = res.physical[n]
        lines.append(f"| {n:,} | {p['records']:,} | {ms(p['cpu_per_cycle'])} |")
    return lines


def memory_section(res: Results) -> list[str]:
    upto = res.settings.rss_cycles_upto
    which = ("every size" if upto >= max(res.settings.sizes) else
             f"sizes up to {upto:,}" if upto else "no size, in this mode")
    lines = ["", "## 4. Memory", "",
             "RSS of the app's process at the end of its run, and the bare table's. Histories "
             f"hold {HISTORY_POINTS} samples (full after {HISTORY_POINTS} cycles): once the "
             f"windows above are done, {which} runs more cycles back-to-back until "
             f"{HISTORY_POINTS + 30} have run.", "",
             "| tasks | start | cycles | RSS | peak RSS | bare table RSS |",
             "| ---: | --- | ---: | ---: | ---: | ---: |"]
    for (n, mode), v in res.live.items():
        bare = res.bare.get(n, {}).get("rss_mb", 0.0)
        full = "" if v["cycles"] >= HISTORY_POINTS else " (histories not full)"
        lines.append(f"| {n:,} | {mode} | {v['cycles']}{full} | {v['rss']:.0f} MB "
                     f"| {v['rss_peak']:.0f} MB | {bare:.0f} MB |")
    return lines


def idle_section(res: Results) -> list[str]:
    i = res.idle
    return ["", "## 5. Idle", "",
            f"The real `callwatch --all-active` at the default interval in a 160x50 "
            f"pseudo-terminal, {i['tasks']:,} tasks, the simulator's clock frozen; over "
            f"{i['seconds']:.0f} s from {res.settings.idle_settle:.0f} s after the first "
            "frame (the first cycles' alert toasts, 8 s on screen, have gone): CPU of the "
            "process (/proc) against wall time, and bytes it wrote to the terminal.", "",
            "| core share | bytes per 2 s |", "| ---: | ---: |",
            f"| {i['share'] * 100:.2f}% | {i['bytes_per_2s']:,.0f} B |"]


def startup_section(res: Results) -> list[str]:
    def row(name: str, values: list[float], base: float) -> str:
        runs = ", ".join(f"{t * 1000:.0f}" for t in values)
        return f"| {name} | {ms(median(values))} | {runs} | {median(values) / base:.2f}× |"

    hello = median(res.frames[startup.HELLO])
    httpx = median(res.status[startup.IMPORT_HTTPX])
    return ["", "## 6. Start-up", "",
            "Medians of interleaved runs, with bytecode caches as a pip install leaves "
            "them (one untimed run of each fills a private cache, and with it the "
            "compiled methods of callwatch's dataclasses and its regular expressions' "
            "programs, which its first run writes there: `callwatch/codecache.py`, "
            "`callwatch/recache.py`). First frame: from "
            "spawning the process until a task name and the footer are on a 160x50 "
            "pseudo-terminal (`--demo` forks its simulator first thing, once asyncio "
            "is imported, which serves HTTP on loopback; the monitor talks to it as to "
            "the API, and the child's start-up runs beside Textual's on the other "
            "core). "
            "Each start begins once the last run's processes have all ended (a killed "
            "`--demo` leaves its simulator shutting down for a moment, on the CPU the "
            "next start would share: 1.35× where 1.04× without it, on one machine); "
            "the last row is compiled from source at every start "
            "(PYTHONDONTWRITEBYTECODE, so neither of those caches either), for the "
            "record. "
            "`status ID`: the installed "
            "`callwatch` script, one task, to the exit (callwatch's own HTTP: it does "
            "not import httpx).", "",
            "| program | median | runs (ms) | ratio |", "| --- | ---: | --- | ---: |",
            row("Textual hello-world", res.frames[startup.HELLO], hello),
            row("callwatch --demo", res.frames[startup.DEMO], hello),
            row(startup.COLD, res.frames[startup.COLD], hello),
            row(startup.IMPORT_HTTPX.replace('"', "'"), res.status[startup.IMPORT_HTTPX],
                httpx),
            row("callwatch status ID", res.status[startup.STATUS], httpx)]


def profile_section(res: Results) -> list[str]:
    runs: list[tuple[tuple[int, str], dict[str, Any]]] = [
        (k, v) for k, v in res.live.items() if v.get("profile")]
    if not runs:
        return [""]
    (n, mode), v = runs[-1]
    return ["", f"## 7. Profile: {n:,} tasks, {mode}", "",
            f"cProfile over {res.settings.profile_cycles} cycles of the app's event loop "
            "(the loop's idle wait left out); the functions with the most time of their "
            "own.", "", "| own time | share | cumulative | calls | function |",
            "| ---: | ---: | ---: | ---: | --- |", *v["profile"], ""]
