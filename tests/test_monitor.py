"""The monitor against the simulator (in-process and over loopback)."""

from __future__ import annotations

import pytest

from callwatch.api.models import JobState
from callwatch.cli.demo import demo_client
from callwatch.monitor import Monitor, Update
from callwatch.sim.app import SimState
from callwatch.sim.faults import Fault
from callwatch.sim.model import CALLING
from callwatch.sim.server import serve_in_thread
from tests.helpers.common import make_client, make_state


def _monitor(state: SimState, **kwargs: object) -> Monitor:
    return Monitor(demo_client(state), **kwargs)  # type: ignore[arg-type]


async def test_first_cycle_fills_every_task_and_diffs_after() -> None:
    state = make_state(12)
    mon = _monitor(state)
    mon.watch(state.jobs)
    first = await mon.run_cycle()
    assert first.ok and len(first.changed) == 12
    for jid, view in mon.tasks.items():
        assert view.job is not None
        assert view.job.task_name == state.jobs[jid].name
    second = await mon.run_cycle()
    assert {v.job_id for v in second.changed} <= set(state.jobs)
    state.clock.advance(60)
    state._list_cache = None
    third = await mon.run_cycle()
    moving = {v.job_id for v in third.changed}
    calling = {j.job_id for j in state.jobs.values() if j.status_at(state.clock.now()) == CALLING}
    assert calling & moving


async def test_finished_task_gets_one_final_detail_then_no_more() -> None:
    state = make_state(12)
    now = state.clock.now()
    job = next(j for j in state.jobs.values() if j.status_at(now) == CALLING)
    mon = _monitor(state)
    mon.watch([job.job_id, *(j for j in state.jobs if j != job.job_id)])
    await mon.run_cycle()
    state.clock.advance(job.end - now + 1)
    state._list_cache = None
    state.stats.clear()
    result = await mon.run_cycle()
    assert job.job_id in result.finished
    view = mon.view(job.job_id)
    assert view is not None and view.job is not None and view.job.state is JobState.COMPLETED
    assert view.job.has_detail and view.job.finish_time is not None
    state.stats.clear()
    again = await mon.run_cycle()
    assert job.job_id not in again.finished
    assert state.stats["detail"] == 0  # no detail for the finished task any more


async def test_unknown_id_is_marked_missing_in_its_row() -> None:
    state = make_state(12)
    mon = _monitor(state)
    mon.watch([42])
    result = await mon.run_cycle()
    view = mon.view(42)
    assert view is not None and view.missing and view.issue and view.issue.word == "not found"
    assert result.ok and not result.problems  # not a banner
    state.stats.clear()
    await mon.run_cycle()
    assert state.stats["requests"] == 0  # not polled again until refresh_now
    mon.refresh_now()
    await mon.run_cycle()
    assert state.stats["detail"] == 1


async def test_auth_failure_stops_polling_after_one_confirming_request() -> None:
    state = make_state(12)
    with serve_in_thread(state) as sim:
        client = make_client(sim.base_url, secret="wrong")
        mon = Monitor(client)
        mon.watch(list(state.jobs)[:5])
        r1 = await mon.run_cycle()
        assert [p.kind for p in r1.problems] == ["auth"] and not mon.blocked
        first = state.stats["requests"]
        r2 = await mon.run_cycle()
        assert state.stats["requests"] == first + 1  # exactly one confirming request
        assert mon.blocked and r2.problems[0].kind == "auth"
        for _ in range(5):
            r = await mon.run_cycle()
            assert r.skipped and r.problems[0].kind == "auth"
        assert state.stats["requests"] == first + 1  # no storm
        # The operator fixes the secret and presses r: polling resumes.
        mon.set_client(make_client(sim.base_url))
        ok = await mon.run_cycle()
        assert ok.ok and not ok.problems
        await client.aclose()


async def test_rate_limit_backs_off_and_recovers() -> None:
    state = make_state(12)
    mon = _monitor(state, interval=2.0)
    mon.watch(state.jobs)
    state.faults.script([], then=Fault.RATE_LIMIT)
    r = await mon.run_cycle()
    assert r.problems[0].kind == "rate_limited" and mon.effective_interval == 4.0
    assert "next refresh in 4 s" in r.problems[0].message
    await mon.run_cycle()
    assert mon.effective_interval == 8.0
    state.faults.script([], then=Fault.NONE)
    r = await mon.run_cycle()
    assert r.ok and not r.problems and mon.effective_interval == 2.0


@pytest.mark.parametrize(("fault", "kind"), [
    # The list covers every task: its failures are the banner's ("list"), not a row's.
    (Fault.HTTP_503, "list"), (Fault.DROP, "network"), (Fault.TRUNCATED, "list"),
    (Fault.INTERNAL, "list"),
])
async def test_fault_becomes_a_problem_then_clears(fault: Fault, kind: str) -> None:
    state = make_state(12)
    mon = Monitor(demo_client(state, retry=_fast_retry()))
    mon.watch(state.jobs)
    state.faults.script([], then=fault)
    r = await mon.run_cycle()
    assert not r.ok and kind in {p.kind for p in r.problems}
    state.faults.script([], then=Fault.NONE)
    r = await mon.run_cycle()
    assert r.ok and not r.problems


def _fast_retry() -> object:
    from callwatch.api.client import RetryPolicy

    return RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02, deadline=5)


async def test_clock_skew_is_reported_as_info() -> None:
    state = make_state(12)
    state.skew = 600
    mon = _monitor(state)
    mon.watch(state.jobs)
    r = await mon.run_cycle()
    assert r.ok
    (p,) = r.problems
    assert p.kind == "clock_skew" and p.level == "info" and "s ahead of" in p.message
    assert any(f"{n} s ahead" in p.message for n in (599, 600, 601))


async def test_all_active_discovers_new_tasks() -> None:
    state = make_state(12)
    mon = _monitor(state, all_active=True)
    r = await mon.run_cycle()
    now = state.clock.now()
    active = {j.job_id for j in state.jobs.values() if j.status_at(now) in (0, 1, 5, 6)}
    assert set(r.added) == active == set(mon.watched)
    again = await mon.run_cycle()  # every page names them all again: none is new
    assert again.added == () and set(mon.watched) >= active


def test_watch_adds_the_new_ids_once_in_order() -> None:
    from callwatch.monitor.watchlist import WatchList

    w = WatchList(lambda: 0.0)
    assert w.watch([5, 3, 5, 9]) == [5, 3, 9]
    assert w.watch([3, 9, 5]) == [] and w.watch(()) == []
    assert w.watch(iter([9, 1, 1, 7])) == [1, 7]
    assert w.watched == [5, 3, 9, 1, 7]


async def test_requests_per_cycle_with_1000_active_tasks_counted_at_server() -> None:
    state = make_state(1000)
    with serve_in_thread(state) as sim:
        async with make_client(sim.base_url) as client:
            mon = Monitor(client)
            now = state.clock.now()
            active = [j.job_id for j in state.jobs.values()
                      if j.status_at(now) not in (2, 3, 4)]
            mon.watch(active)
            mon.select(active[0])
            await mon.run_cycle()  # first cycle learns the account size
            for _ in range(3):
                state.stats.clear()
                r = await mon.run_cycle()
                assert r.ok
                assert state.stats["requests"] == r.requests <= mon.current_plan().expected_requests
                assert r.requests <= 11


async def test_interval_is_clamped() -> None:
    # (Pausing is tested with the run loop below: a paused monitor sends no request.)
    state = make_state(12)
    mon = _monitor(state, interval=0.1)
    assert mon.interval == 1.0
    mon.interval = 10_000
    assert mon.interval == 3600.0
    mon.interval = float("nan")
    assert mon.interval == 5.0


async def test_run_loop_updates_progressively_and_pause_stops_requests() -> None:
    import asyncio

    state = make_state(12)
    mon = _monitor(state, interval=1.0)
    mon.watch(state.jobs)
    results: list[Update] = []
    task = asyncio.create_task(mon.run(results.append))
    await asyncio.sleep(0.2)
    assert {v.job_id for u in results for v in u.changed} == set(state.jobs)
    cycles = mon.cycles
    mon.refresh_now()
    mon.refresh_now()  # two wakes, one cycle
    await asyncio.sleep(0.3)
    assert mon.cycles == cycles + 1
    # A new interval re-times the wait at once, without a cycle of its own.
    mon.interval = 3600
    await asyncio.sleep(1.2)
    cycles = mon.cycles
    await asyncio.sleep(1.2)
    assert mon.cycles == cycles  # an hour away now
    mon.interval = 1
    await asyncio.sleep(0.3)
    assert mon.cycles == cycles + 1  # more than 1 s since the last start: due at once
    mon.set_paused(True)
    await asyncio.sleep(0.1)
    state.stats.clear()
    mon.refresh_now()
    await asyncio.sleep(1.3)
    assert state.stats["requests"] == 0
    mon.stop()
    await asyncio.wait_for(task, 2)


async def test_silent_server_times_out_and_the_next_cycle_goes_on() -> None:
    import socket
    import time

    from callwatch.api.client import RetryPolicy, Timeouts

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    try:
        client = make_client(f"http://127.0.0.1:{srv.getsockname()[1]}",
                             timeouts=Timeouts(connect=0.5, read=0.5, write=0.5, pool=0.5),
                             retry=RetryPolicy(attempts=2, base_delay=0.05, deadline=1.5))
        mon = Monitor(client)
        mon.watch([1, 2])
        for _ in range(2):
            started = time.monotonic()
            r = await mon.run_cycle()
            assert time.monotonic() - started < 2.5
            assert not r.ok and [p.kind for p in r.problems] == ["list"]
            assert "timeout" in r.problems[0].message
            assert "no answer" in r.problems[0].message
        assert mon.cycles == 2
        await client.aclose()
    finally:
        srv.close()


async def test_unchanged_records_keep_their_views_and_are_not_reported() -> None:
    import time

    from callwatch.sim.model import SimClock

    frozen = time.time()
    state = make_state(40)
    state.clock = SimClock(lambda: frozen)
    mon = _monitor(state)
    mon.watch(state.jobs)
    await mon.run_cycle()
    await mon.run_cycle()
    views = mon.tasks
    third = await mon.run_cycle()
    assert third.changed == ()  # nothing moved: the sparkline alone is no change
    assert all(mon.tasks[j] is v for j, v in views.items())


async def test_list_records_are_parsed_once_while_unchanged() -> None:
    state = make_state(40)
    mon = _monitor(state)
    mon.watch(state.jobs)
    await mon.run_cycle()
    memo = dict(mon.memo)
    assert memo
    await mon.run_cycle()
    same = [j for j, (_, job) in mon.memo.items() if j in memo and memo[j][1] is job]
    assert same  # frozen-in-time records (waiting, suspended) are reused as the same Job
