"""Shared helpers for the TUI tests: a frozen simulator, a frozen clock, forced problems."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime

from textual.pilot import Pilot

from callwatch.api.models import JobState
from callwatch.cli.demo import demo_client
from callwatch.errors import (
    ApiTimeoutError,
    AuthError,
    IpDeniedError,
    NetworkError,
    ServerInternalError,
)
from callwatch.monitor import Monitor, Problem
from callwatch.monitor.problems import problem_for, skew_problem
from callwatch.sim.app import SimConfig, SimState
from callwatch.sim.model import SimClock
from callwatch.store.config import Config
from callwatch.tui.app import CallwatchApp

FIXED = 1_780_000_000.0  # the frozen simulated time
MONO = 1000.0  # the frozen monotonic clock of the monitor and the status line


def frozen_state(jobs: int = 12) -> SimState:
    state = SimState(SimConfig(seed=7), clock=SimClock(lambda: FIXED))
    state.populate(jobs)
    return state


class ForcedMonitor(Monitor):
    """A monitor whose every cycle reports the given problems (banner snapshots)."""

    forced: tuple[Problem, ...] = ()

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.forced or super().problems


def make_app(state: SimState | None = None, *, watch: Iterable[int] | None = None,
             problems: Iterable[Problem] = (), settings: Config | None = None,
             persist: bool = True, profile: str | None = "test",
             interval: float = 3600.0) -> CallwatchApp:
    state = state or frozen_state()
    monitor = ForcedMonitor(demo_client(state), interval=interval, clock=lambda: MONO,
                             list_window_days=3650)
    monitor.forced = tuple(problems)
    monitor.watch(state.jobs if watch is None else watch)
    return CallwatchApp(monitor, account="test · itnio", profile=profile,
                        settings=settings or Config(), clock=lambda: MONO,
                        persist=persist,
                        wall=lambda: datetime.fromtimestamp(FIXED).astimezone())


async def settle(pilot: Pilot[int], app: CallwatchApp, cycles: int = 1,
                 timeout: float = 10.0) -> None:
    """Wait until the monitor has run ``cycles`` cycles and the screen caught up."""
    deadline = time.monotonic() + timeout
    while app.monitor.cycles < cycles:
        if time.monotonic() > deadline:
            raise AssertionError("the monitor did not cycle")
        await pilot.pause(0.05)
    await pilot.pause()
    app.main.flush()  # what arrived (the screen takes answers in batches)
    app.toasts.flush()  # and the events' toasts (shown in batches too)
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def settle_detail(pilot: Pilot[int], app: CallwatchApp) -> None:
    """Wait until the selected task's detail arrived (the 0.4 s debounce + a cycle)."""
    deadline = time.monotonic() + 10
    while True:
        sel = app.monitor.selected
        view = app.monitor.view(sel) if sel is not None else None
        if view is not None and (view.missing or view.job is not None and view.job.has_detail):
            break
        if time.monotonic() > deadline:
            raise AssertionError("no detail")
        await pilot.pause(0.05)
    await pilot.pause(0.6)  # the detail timer fired; one quiet cycle
    await pilot.pause()


BANNERS: dict[str, Problem] = {
    "auth": problem_for(AuthError("authentication failed: check the API key and secret "
                                  "(callwatch login) (code -1)", -1)),
    "ip": problem_for(IpDeniedError("this machine's IP address is not on the key's "
                                    "allow-list (code -2)", -2)),
    "clock_skew": skew_problem(600.0),
    "rate_limited": Problem("rate_limited", "warning",
                            "Rate limited (-15): next refresh in 20 s (backoff x4)",
                            "backing off; raise the interval with +"),
    "server": problem_for(ServerInternalError("the API reported an internal error "
                                              "(code -18)", -18)),
    "network": problem_for(NetworkError("cannot reach api.example.invalid: connection "
                                        "refused")),
    "timeout": problem_for(ApiTimeoutError("no answer within 10 s")),
}

CALLING = JobState.CALLING
