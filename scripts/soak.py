#!/usr/bin/env python3
"""Soak: the monitor against the simulator on loopback, under chaos faults.

    python scripts/soak.py --minutes 10 --tasks 1000 --faults chaos

For M minutes the monitor refreshes every watched task against the simulator
(uvicorn on 127.0.0.1) with the chosen fault profile. Spread over that time,
each fault class is forced for a few cycles (a "burst"), and the monitor must
report its problem kind in every cycle of the burst. Then faults are switched
off, the simulated clock is frozen and within two cycles every watched task must
equal the simulator's ground truth. RSS after warm-up and at the end must not
differ by 10% or more, and no cycle may raise or report an internal error.

Prints a table; exits 1 when a check fails (``--json FILE`` writes the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from callwatch.api.client import ApiClient, RetryPolicy, Timeouts  # noqa: E402
from callwatch.api.pool import WireSender  # noqa: E402
from callwatch.api.signing import Secret  # noqa: E402
from callwatch.api.types import Credentials  # noqa: E402
from callwatch.monitor import Monitor, Update  # noqa: E402
from callwatch.monitor.history import HISTORY_POINTS  # noqa: E402
from callwatch.sim.app import SimConfig, SimState  # noqa: E402
from callwatch.sim.faults import PROFILES, Decision, Fault  # noqa: E402
from callwatch.sim.model import SimClock  # noqa: E402
from callwatch.sim.server import serve_in_thread  # noqa: E402

KEY, SECRET = "soak-key", "soak-secret"

# What the monitor must say while each fault class lasts.
# A fault on every request fails the task list first: the list's problem ("list") is
# the banner's; transport-level drops are the account's ("network").
EXPECTED_KIND: dict[str, str] = {
    Fault.HTTP_503.value: "list",
    Fault.SLOW.value: "list",
    Fault.DROP.value: "network",
    Fault.MALFORMED.value: "list",
    Fault.TRUNCATED.value: "list",
    Fault.RATE_LIMIT.value: "rate_limited",
    Fault.INTERNAL.value: "list",
    "skew": "clock_skew",  # the server's clock 900 s ahead (chaos does it by itself too)
}
# What the TUI's banner says for each problem kind (callwatch/monitor/problems.py).
BANNER_TEXT: dict[str, str] = {
    "server": "Server error", "timeout": "Timeout", "network": "Network unreachable",
    "bad_response": "Malformed response", "rate_limited": "Rate limited",
    "clock_skew": "Clock skew", "timestamp": "Timestamp rejected", "list": "Task list failing",
}
SKEW_KINDS = ("clock_skew", "timestamp")
SKEW_SECONDS = 900.0
MAX_RSS_GROWTH = 0.10
CONVERGE_CYCLES = 2


@dataclass
class SoakConfig:
    minutes: float = 10.0
    tasks: int = 1000
    faults: str = "chaos"
    seed: int = 1
    pause: float = 0.1  # seconds between cycles (times the monitor's rate-limit backoff)
    burst_cycles: int = 2
    read_timeout: float = 2.0
    slow_delay: float = 6.0  # a forced SLOW fault answers after this long
    ui: str = "monitor"  # "monitor": Monitor.run_cycle() headless; "tui": the Textual app
    rss_check: bool = True  # False: measure RSS, do not fail on it (short runs)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Burst:
    fault: str
    expected: str
    cycles: int = 0
    seen: int = 0  # cycles whose problems included the expected kind


@dataclass
class SoakReport:
    config: SoakConfig
    cycles: int = 0
    requests: int = 0  # as counted by the client
    seconds: float = 0.0
    faults: dict[str, int] = field(default_factory=dict)  # server stats fault_*
    kinds: dict[str, int] = field(default_factory=dict)  # problem kind -> cycles seen
    bursts: list[Burst] = field(default_factory=list)
    raised: int = 0
    rss_warm_kb: int = 0
    rss_end_kb: int = 0
    warm_cycle: int = 0
    converge_cycles: int | None = None
    quit_seconds: float | None = None  # tui: the app's exit after q
    mismatches: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        return out

    def table(self) -> str:
        growth = (self.rss_end_kb - self.rss_warm_kb) / self.rss_warm_kb if self.rss_warm_kb else 0
        lines = [
            f"soak ({self.config.ui}): {self.config.minutes:g} min, {self.config.tasks} tasks, "
            f"faults {self.config.faults}, {self.seconds:.0f} s wall",
            f"cycles {self.cycles}   client requests {self.requests}   "
            f"run_cycle raised {self.raised}",
            (f"RSS after warm-up (cycle {self.warm_cycle}) {self.rss_warm_kb / 1024:.1f} MiB, "
             if self.rss_warm_kb else "RSS never warmed up, ")
            + f"at the end {self.rss_end_kb / 1024:.1f} MiB ({growth:+.1%})",
            f"converged to ground truth in {self.converge_cycles} cycle(s)"
            if self.converge_cycles else "did NOT converge to ground truth",
            f"the app quit {self.quit_seconds:.2f} s after q"
            if self.quit_seconds is not None else "",
            "",
            f"{'fault class':<14}{'injected':>9}  {'problem kind':<14}"
            f"{'burst cycles seen':>18}{'cycles seen (all)':>18}",
        ]
        for fault, kind in EXPECTED_KIND.items():
            burst = next((b for b in self.bursts if b.fault == fault), None)
            seen = f"{burst.seen}/{burst.cycles}" if burst else "-"
            lines.append(f"{fault:<14}{self.faults.get('fault_' + fault, 0):>9}  "
                         f"{kind:<14}{seen:>18}{self.kinds.get(kind, 0):>18}")
        lines.append("")
        lines.append("problem kinds seen (cycles): " + ", ".join(
            f"{k} {n}" for k, n in sorted(self.kinds.items())))
        lines.append("")
        for c in self.checks:
            lines.append(f"[{'PASS' if c.ok else 'FAIL'}] {c.name}: {c.detail}")
        lines.append("")
        lines.append("SOAK PASSED" if self.ok else "SOAK FAILED")
        return "\n".join(lines)


class FreezableTime:
    """Real time for the simulated clock, until :meth:`freeze` stops it."""

    def __init__(self) -> None:
        self.frozen: float | None = None

    def __call__(self) -> float:
        return time.time() if self.frozen is None else self.frozen

    def freeze(self) -> None:
        self.frozen = time.time()


def rss_kb() -> int:
    """Current resident set size (VmRSS), in KiB; peak RSS where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak // 1024) if sys.platform == "darwin" else int(peak)


def count_skew(state: SimState) -> None:
    """Count skewed answers as ``fault_skew`` (the other classes count themselves)."""
    plan = state.faults
    decide = plan.decide

    def counting() -> Decision:
        decision = decide()
        if decision.skew:
            state.stats["fault_skew"] += 1
        return decision

    plan.decide = counting  # type: ignore[method-assign]


def warmed_up(mon: Monitor) -> bool:
    """Every unfinished task's history (bounded) is full: RSS must be flat from here on.

    Reads the monitor's own per-task history: a view keeps its old sparkline while its
    record does not change, so the views cannot tell."""
    tasks = list(mon._tasks.values())
    return bool(tasks) and all(t.view.job is not None for t in tasks) and all(
        len(t.history.progress_series()) >= HISTORY_POINTS for t in tasks
        if t.view.job is not None and not t.view.job.state.finished)


def mismatches(mon: Monitor, state: SimState) -> list[str]:
    """Watched tasks that differ from the simulator's ground truth now."""
    out: list[str] = []
    for jid, view in mon.tasks.items():
        truth = state.ground_truth(jid)
        job = view.job
        if job is None:
            out.append(f"{jid}: never read")
            continue
        mine = (job.state.value, job.num_cnt, job.called, job.success, job.fail)
        theirs = (truth["status"], truth["numCnt"], truth["success"] + truth["fail"],
                  truth["success"], truth["fail"])
        if mine != theirs:
            out.append(f"{jid}: monitor (state, numCnt, called, success, fail)={mine}, "
                       f"simulator={theirs}")
    return out


def make_sim(cfg: SoakConfig) -> tuple[SimState, FreezableTime]:
    real = FreezableTime()
    state = SimState(SimConfig(keys={KEY: SECRET}, faults=cfg.faults, seed=cfg.seed),
                     clock=SimClock(real))
    state.populate(cfg.tasks, seed=cfg.seed)
    state.faults.slow_delay = cfg.slow_delay
    count_skew(state)
    return state, real


def make_soak_client(base_url: str, cfg: SoakConfig) -> ApiClient:
    return ApiClient(
        Credentials(KEY, Secret(SECRET)), base_url=base_url,
        timeouts=Timeouts(connect=2.0, read=cfg.read_timeout, write=2.0, pool=2.0),
        retry=RetryPolicy(attempts=3, base_delay=min(0.1, cfg.read_timeout / 5), max_delay=0.5,
                          deadline=3 * cfg.read_timeout + 2.0))


def burst_schedule(cfg: SoakConfig, start: float) -> list[tuple[float, str]]:
    """Each fault class once, evenly spread over the soak (none in the last stretch)."""
    classes = list(EXPECTED_KIND)
    gap = cfg.minutes * 60.0 / (len(classes) + 1)
    return [(start + gap * (i + 1) - gap / 2, f) for i, f in enumerate(classes)]


async def start_burst(name: str, state: SimState, base_url: str) -> None:
    """Force one fault class on every request until :func:`end_burst`."""
    if name == "skew":  # the profile would reset the skew per request: off meanwhile
        await post(base_url, "/_sim/faults", {"profile": "none"})
        await post(base_url, "/_sim/skew", {"seconds": SKEW_SECONDS})
    else:
        state.faults.script([], then=Fault(name))


async def end_burst(name: str, state: SimState, base_url: str, profile: str) -> None:
    if name == "skew":
        await post(base_url, "/_sim/skew", {"seconds": 0})
        await post(base_url, "/_sim/faults", {"profile": profile})
    else:
        state.faults.script([], then=None)  # back to the profile


class Recorder:
    def __init__(self, report: SoakReport) -> None:
        self.report = report
        self.kinds: Counter[str] = Counter()

    def cycle(self, result: Update) -> set[str]:
        self.report.cycles += 1
        self.report.requests += result.requests
        kinds = {p.kind for p in result.problems}
        self.kinds.update(kinds)
        return kinds


async def post(base_url: str, path: str, body: dict[str, Any]) -> None:
    """The simulator's unsigned control endpoints, over the same loopback socket.

    Through callwatch's own HTTP, not httpx: importing httpx (and building its TLS
    context) at the last burst added ~6 MiB to the RSS the soak then blamed on the
    monitor."""
    sender = WireSender(base_url, Timeouts(connect=5, read=5, write=5, pool=5), 1, {})
    try:
        reply = await sender.send("POST", path, {"Content-Type": "application/json"},
                                  json.dumps(body).encode())
    finally:
        await sender.aclose()
    if reply.status_code != 200:
        raise RuntimeError(f"POST {path}: HTTP {reply.status_code}")


async def soak_headless(cfg: SoakConfig, out: SoakReport, state: SimState,
                        real: FreezableTime, base_url: str) -> None:
    rec = Recorder(out)
    client = make_soak_client(base_url, cfg)
    mon = Monitor(client, interval=1.0)
    mon.watch(list(state.jobs))
    mon.select(next(iter(state.jobs)))

    async def cycle() -> set[str]:
        try:
            result = await mon.run_cycle()
        except BaseException as exc:  # the check: this never happens
            out.raised += 1
            logging.getLogger("soak").exception("run_cycle raised: %r", exc)
            return {"raised"}
        return rec.cycle(result)

    start = time.monotonic()
    end = start + cfg.minutes * 60.0
    schedule = burst_schedule(cfg, start)
    try:
        while time.monotonic() < end or schedule:  # every class gets its burst
            if schedule and time.monotonic() >= schedule[0][0]:
                _, fault = schedule.pop(0)
                burst = Burst(fault, EXPECTED_KIND[fault])
                out.bursts.append(burst)
                await start_burst(fault, state, base_url)
                for _ in range(cfg.burst_cycles):
                    burst.cycles += 1
                    # Backoffs lifted (as r does): a burst cycle must ask something.
                    mon.refresh_now()
                    if burst.expected in await cycle():
                        burst.seen += 1
                await end_burst(fault, state, base_url, cfg.faults)
            else:
                await cycle()
            if not out.rss_warm_kb and warmed_up(mon):
                out.rss_warm_kb, out.warm_cycle = rss_kb(), out.cycles
            await asyncio.sleep(cfg.pause * mon.backoff)
        # Faults off, the simulated clock stops: the monitor must now agree exactly.
        await post(base_url, "/_sim/faults", {"profile": "none"})
        state.faults.script([], then=None)
        await post(base_url, "/_sim/skew", {"seconds": 0})
        real.freeze()
        await post(base_url, "/_sim/advance", {"seconds": 0})  # drops the list cache
        for n in range(1, CONVERGE_CYCLES + 1):
            kinds = await cycle()
            out.mismatches = mismatches(mon, state)
            if not out.mismatches and not kinds:
                out.converge_cycles = n
                break
        out.rss_end_kb = rss_kb()
    finally:
        await client.aclose()
    out.kinds = dict(rec.kinds)


@dataclass
class Seen:
    cycle: int  # cycles ended when it was seen
    result: Update
    banner: str  # the banner widget's text ("" when hidden)


async def soak_tui(cfg: SoakConfig, out: SoakReport, state: SimState,
                   real: FreezableTime, base_url: str) -> None:
    """The real Textual app (headless, driven by its Pilot) with its own poll worker."""
    from callwatch.store.config import Config, UiSettings
    from callwatch.tui.app import CallwatchApp

    seen: list[Seen] = []
    rec = Recorder(out)
    mon = Monitor(make_soak_client(base_url, cfg), interval=1.0)

    class SoakApp(CallwatchApp):
        # A relative CSS_PATH is looked up beside the subclass: point at the app's own.
        CSS_PATH = str(Path(sys.modules[CallwatchApp.__module__].__file__ or "").parent
                       / "app.tcss")

        def _monitor_update(self, result: Update) -> None:
            super()._monitor_update(result)
            self.main.flush()  # the banner as of this update
            banner = self.main.banner
            seen.append(Seen(mon.cycles, result,
                             str(banner.render()) if banner.display else ""))
            rec.cycle(result)

    app = SoakApp(mon, account="soak", profile=None, settings=Config(ui=UiSettings(bell=False)),
                  initial=list(state.jobs), persist=False)

    async def cycles_after(start: int, count: int, timeout: float) -> list[Seen]:
        """``count`` cycles that started after cycle number ``start``."""
        deadline = time.monotonic() + timeout
        while True:
            # The first update after a cycle ended carries that cycle's end.
            got = list({s.cycle: s for s in reversed(seen) if s.cycle > start}.values())
            got.sort(key=lambda s: s.cycle)
            if len(got) >= count or time.monotonic() > deadline:
                return got[:count]
            if not app.is_running or (app.poll_worker is not None
                                      and app.poll_worker.is_finished):
                out.raised += 1
                return got
            await asyncio.sleep(0.05)

    start = time.monotonic()
    end = start + cfg.minutes * 60.0
    schedule = burst_schedule(cfg, start)
    async with app.run_test(size=(160, 50)) as pilot:
        while time.monotonic() < end or schedule:  # every class gets its burst
            if schedule and time.monotonic() >= schedule[0][0]:
                _, fault = schedule.pop(0)
                burst = Burst(fault, EXPECTED_KIND[fault])
                out.bursts.append(burst)
                await start_burst(fault, state, base_url)
                mon.refresh_now()  # backoffs lifted (as r does): the burst is asked
                # Cycles that ended once the fault was on; backoff can stretch them.
                for s in await cycles_after(mon.cycles + 1, cfg.burst_cycles, 120.0):
                    burst.cycles += 1
                    if BANNER_TEXT[burst.expected] in s.banner:
                        burst.seen += 1
                await end_burst(fault, state, base_url, cfg.faults)
            else:
                await pilot.pause(0.1)
            if not app.is_running:
                out.raised += 1
                break
            if not out.rss_warm_kb and warmed_up(mon):
                out.rss_warm_kb, out.warm_cycle = rss_kb(), out.cycles
        await post(base_url, "/_sim/faults", {"profile": "none"})
        state.faults.script([], then=None)
        await post(base_url, "/_sim/skew", {"seconds": 0})
        real.freeze()
        await post(base_url, "/_sim/advance", {"seconds": 0})
        switched = mon.cycles + 1  # the cycle in flight may predate the switch
        mon.refresh_now()
        for n in range(1, CONVERGE_CYCLES + 1):
            got = await cycles_after(switched, n, 60.0)
            out.mismatches = mismatches(mon, state)
            if len(got) == n and not out.mismatches and not got[-1].banner:
                await pilot.pause()
                if not app.main.banner.display:
                    out.converge_cycles = n
                    break
        out.rss_end_kb = rss_kb()
        mon.refresh_now()  # a cycle in flight while q is pressed
        await pilot.pause(0.05)
        pressed = time.monotonic()
        await pilot.press("q")
    out.quit_seconds = time.monotonic() - pressed
    out.cycles = mon.cycles  # the recorder counted updates (several per cycle)
    if app.return_value != 0:
        out.raised += 1
    out.kinds = dict(rec.kinds)


def evaluate(out: SoakReport) -> None:
    checks = out.checks
    checks.append(Check("never raised", out.raised == 0 and "internal" not in out.kinds,
                        f"run_cycle raised {out.raised} times, internal problems in "
                        f"{out.kinds.get('internal', 0)} cycles"))
    if out.quit_seconds is not None:
        checks.append(Check("q quits within 1 s", out.quit_seconds < 1.0,
                            f"{out.quit_seconds:.2f} s"))
    for fault, kind in EXPECTED_KIND.items():
        injected = out.faults.get(f"fault_{fault}", 0)
        burst = next((b for b in out.bursts if b.fault == fault), None)
        ok = burst is not None and burst.cycles > 0 and burst.seen == burst.cycles
        if fault != "skew" or out.config.faults == "chaos" and out.cycles > 100:
            ok = ok and injected > 0  # the profile itself injected this class too
        detail = (f"injected {injected}; '{kind}' in {burst.seen}/{burst.cycles} burst cycles"
                  if burst else f"injected {injected}; no burst ran")
        checks.append(Check(f"{fault} surfaces as {kind}", ok, detail))
    if not out.config.rss_check:
        checks.append(Check("RSS growth < 10% (not enforced)", True,
                            f"{out.rss_warm_kb} KiB after cycle {out.warm_cycle} -> "
                            f"{out.rss_end_kb} KiB at the end" if out.rss_warm_kb else
                            f"never warmed up in {out.cycles} cycles; {out.rss_end_kb} KiB "
                            "at the end"))
    elif out.rss_warm_kb:
        growth = (out.rss_end_kb - out.rss_warm_kb) / out.rss_warm_kb
        checks.append(Check("RSS growth < 10%", growth < MAX_RSS_GROWTH,
                            f"{out.rss_warm_kb} KiB after cycle {out.warm_cycle} -> "
                            f"{out.rss_end_kb} KiB at the end ({growth:+.1%})"))
    else:
        checks.append(Check("RSS growth < 10%", False,
                            f"never warmed up: {out.cycles} cycles, warm-up needs "
                            f"full histories ({HISTORY_POINTS} samples each); run longer"))
    checks.append(Check(
        f"converges within {CONVERGE_CYCLES} cycles", out.converge_cycles is not None,
        f"{out.converge_cycles} cycle(s)" if out.converge_cycles
        else f"{len(out.mismatches)} tasks differ, e.g. {out.mismatches[:2]}"))


async def run_soak(cfg: SoakConfig) -> SoakReport:
    out = SoakReport(cfg)
    state, real = make_sim(cfg)
    started = time.monotonic()
    with serve_in_thread(state) as sim:
        # A dropped connection is an exception inside uvicorn: keep its traceback quiet.
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
        if cfg.ui == "tui":
            await soak_tui(cfg, out, state, real, sim.base_url)
        else:
            await soak_headless(cfg, out, state, real, sim.base_url)
        out.faults = {k: n for k, n in sorted(state.stats.items()) if k.startswith("fault_")}
    out.seconds = time.monotonic() - started
    evaluate(out)
    return out


def parse_args(argv: Sequence[str] | None) -> tuple[SoakConfig, Path | None]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    d = SoakConfig()
    p.add_argument("--minutes", type=float, default=d.minutes, help="soak length (chaos phase)")
    p.add_argument("--tasks", type=int, default=d.tasks, help="simulated and watched tasks")
    p.add_argument("--faults", choices=PROFILES, default=d.faults, help="fault profile")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--pause", type=float, default=d.pause,
                   help="seconds between cycles (times the rate-limit backoff)")
    p.add_argument("--burst-cycles", type=int, default=d.burst_cycles,
                   help="cycles each forced fault class lasts")
    p.add_argument("--read-timeout", type=float, default=d.read_timeout,
                   help="the client's read timeout (shorter: more cycles per minute)")
    p.add_argument("--ui", choices=("monitor", "tui"), default=d.ui,
                   help="monitor: Monitor headless; tui: the real Textual app, headless, "
                        "checking its banner")
    p.add_argument("--no-rss-check", dest="rss_check", action="store_false",
                   help="report RSS growth without failing on it (runs too short to warm up)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    a = p.parse_args(argv)
    cfg = SoakConfig(minutes=a.minutes, tasks=a.tasks, faults=a.faults, seed=a.seed,
                     pause=a.pause, burst_cycles=a.burst_cycles, read_timeout=a.read_timeout,
                     ui=a.ui, rss_check=a.rss_check)
    return cfg, a.json


def main(argv: Sequence[str] | None = None) -> int:
    cfg, json_path = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    report = asyncio.run(run_soak(cfg))
    print(report.table())
    if json_path is not None:
        json_path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    sys.stdout.flush()
    return 0 if report.ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
