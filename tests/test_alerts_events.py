"""Alert events from the monitor core, driven by the simulator over uvicorn on loopback:
the balance drains, tasks stall, a top-up resumes them; a failing task; API problems.
Minutes pass quickly: the simulator's clock jumps and stall_minutes is a fraction."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import pytest

from callwatch.monitor import Monitor
from callwatch.monitor.balance import BalancePoller
from callwatch.monitor.events import Event, EventDetector
from callwatch.sim.app import SimConfig, SimState
from callwatch.sim.remote import control, set_balance
from callwatch.sim.server import RunningSim, serve_in_thread
from callwatch.store.alerts_config import AlertSettings
from tests.helpers.common import KEY, SECRET, make_client

STALL = AlertSettings(stall_minutes=0.04, balance_below=0.5, min_calls=50, fail_rate=60,
                      problem_minutes=0.03)


@pytest.fixture
def wallet_sim() -> Iterator[RunningSim]:
    with serve_in_thread(SimState(SimConfig(keys={KEY: SECRET}, balance=1.0))) as sim:
        yield sim


@asynccontextmanager
async def watching(base_url: str, ids: list[int], settings: AlertSettings = STALL
                   ) -> AsyncIterator[tuple[Monitor, list[Event]]]:
    """A running monitor with the event detector and a fast balance poller."""
    client = make_client(base_url)
    monitor = Monitor(client, interval=1.0)
    monitor.watch(ids)
    monitor.events = EventDetector(settings, "ops")
    monitor.balance = BalancePoller(every=0.3)
    events: list[Event] = []
    monitor.events.sinks.append(events.append)
    task = asyncio.create_task(monitor.run(lambda update: None))
    try:
        yield monitor, events
    finally:
        monitor.stop()
        await asyncio.wait_for(task, 10)
        await client.aclose()


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def named(events: list[Event], name: str, job_id: int | None = None) -> list[Event]:
    return [e for e in events if e.event == name and (job_id is None or e.job_id == job_id)]


async def test_balance_drains_tasks_stall_and_a_top_up_resumes_them(
        wallet_sim: RunningSim) -> None:
    url = wallet_sim.base_url
    ids = [control(url, "jobs", {"numCnt": 100_000, "dialRate": 20, "answerRatio": 0.5})
           ["jobId"] for _ in range(2)]
    async with watching(url, ids) as (monitor, events):
        await until(lambda: monitor.balance is not None and monitor.balance.last is not None)
        control(url, "advance", {"seconds": 120})  # far more than 1.00 buys: it runs out
        await until(lambda: all(named(events, "stalled", j) for j in ids)
                    and bool(named(events, "balance_low")))
        assert monitor.events is not None and monitor.events.marker(ids[0]) == "stalled"
        assert control(url, "balance")["stalled"] == 2
        cycles = monitor.cycles
        await until(lambda: monitor.cycles >= cycles + 3)  # more cycles: no storm
        set_balance(url, add=100.0)
        await until(lambda: all(named(events, "resumed", j) for j in ids)
                    and bool(named(events, "recovered")))
        assert monitor.events.marker(ids[0]) is None
    for jid in ids:
        assert len(named(events, "stalled", jid)) == 1
        assert len(named(events, "resumed", jid)) == 1
    low = named(events, "balance_low")
    assert len(low) == 1 and low[0].detail["balance"] == 0.0
    assert low[0].to_json()["profile"] == "ops" and "jobId" not in low[0].to_json()
    assert named(events, "recovered")[0].detail["condition"] == "balance_low"
    stalled = named(events, "stalled", ids[0])[0].to_json()
    assert stalled["jobId"] == ids[0] and stalled["state"] == "calling"
    assert stalled["taskName"] == f"sim-{ids[0]}" and "stalled" in stalled["text"]


async def test_a_high_failure_task_fires_fail_rate_once(live_sim: RunningSim) -> None:
    url = live_sim.base_url
    bad = control(url, "jobs", {"numCnt": 100_000, "dialRate": 10, "answerRatio": 0.1})["jobId"]
    good = control(url, "jobs", {"numCnt": 100_000, "dialRate": 10, "answerRatio": 0.8})["jobId"]
    async with watching(url, [bad, good]) as (monitor, events):
        await until(lambda: monitor.cycles >= 1)
        control(url, "advance", {"seconds": 30})  # 300 calls each, well past min_calls
        await until(lambda: bool(named(events, "fail_rate")))
        cycles = monitor.cycles
        await until(lambda: monitor.cycles >= cycles + 3)
        assert monitor.events is not None and monitor.events.marker(bad) == "high fail"
    [event] = named(events, "fail_rate")
    assert event.job_id == bad and event.detail["failRate"] >= 85
    assert event.detail["called"] >= 50 and event.detail["threshold"] == 60


async def test_finished_and_failed_once_per_transition(live_sim: RunningSim) -> None:
    url = live_sim.base_url
    short = control(url, "jobs", {"numCnt": 50, "dialRate": 10})["jobId"]
    doomed = control(url, "jobs", {"numCnt": 50_000, "dialRate": 10})["jobId"]
    async with watching(url, [short, doomed]) as (monitor, events):
        await until(lambda: monitor.cycles >= 1)
        control(url, "advance", {"seconds": 10})
        client = make_client(url)
        await client.cancel([doomed])
        await client.aclose()
        await until(lambda: bool(named(events, "finished")) and bool(named(events, "failed")))
        cycles = monitor.cycles
        await until(lambda: monitor.cycles >= cycles + 2)
    assert [e.job_id for e in named(events, "finished")] == [short]
    [failed] = named(events, "failed")
    assert failed.job_id == doomed and failed.state == "cancelled"


async def test_a_lasting_api_problem_fires_once_then_recovered(live_sim: RunningSim) -> None:
    url = live_sim.base_url
    jid = control(url, "jobs", {"numCnt": 100_000, "dialRate": 1})["jobId"]
    async with watching(url, [jid]) as (monitor, events):
        await until(lambda: monitor.cycles >= 1)
        live_sim.state.config.allowed_ips[KEY] = {"192.0.2.1"}  # -2: polling blocks
        await until(lambda: bool(named(events, "api_problem")))
        assert monitor.blocked  # found while no request goes out at all
        await asyncio.sleep(2.5)  # more blocked intervals: no storm
        live_sim.state.config.allowed_ips.clear()
        monitor.refresh_now()
        await until(lambda: bool(named(events, "recovered")))
    [problem] = named(events, "api_problem")
    assert problem.detail["kinds"] == ["ip_denied"] and "IP" in problem.text
    assert named(events, "recovered")[0].detail["condition"] == "api_problem"


def test_feeding_10000_changed_tasks_allocates_nothing_when_nothing_fires() -> None:
    import tracemalloc

    from callwatch.api.models import Job
    from callwatch.monitor.views import TaskView

    detector = EventDetector(STALL, "ops")
    fired: list[Event] = []
    detector.sinks.append(fired.append)

    def views(called: int) -> list[TaskView]:
        return [TaskView(jid, Job(jid, status_code=1, num_cnt=10**6, call_num=called,
                                  success=called // 2, fail=called - called // 2))
                for jid in range(10_000)]

    detector.feed(views(100), 0.0)  # first sight: the tracks are made
    moved = views(400)  # progress, a fail rate of 50%: under 60, nothing to say
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        detector.feed(moved, 1.0)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert not fired and grown < 4096
