"""Monitor reliability: no request storms on failures, auth blocks over many cycles."""

from __future__ import annotations

import asyncio
import time

import pytest

from callwatch.api.client import RetryPolicy
from callwatch.cli.demo import demo_client
from callwatch.monitor import Monitor, Update
from callwatch.sim.app import SimState
from callwatch.sim.faults import Fault
from callwatch.sim.server import serve_in_thread
from tests.helpers.common import KEY, SECRET, make_client, make_state


def served(state: SimState) -> int:
    """Requests that reached the simulator, those answered by the fault layer included."""
    faulted = sum(n for k, n in state.stats.items() if k.startswith("fault_") and k != "fault_slow")
    return state.stats["requests"] + faulted


def _fast_retry() -> RetryPolicy:
    return RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02, deadline=5)


@pytest.mark.parametrize("fault", [Fault.RATE_LIMIT, Fault.HTTP_503, Fault.TRUNCATED])
async def test_failed_list_is_not_replaced_by_one_detail_per_task(fault: Fault) -> None:
    """A list page that fails must not turn into ~1,000 detail GETs (it did: 937)."""
    state = make_state(1000)
    mon = Monitor(demo_client(state, retry=_fast_retry()))
    mon.watch(state.jobs)
    await mon.run_cycle()  # learns the account size: ~10 pages per cycle from now on
    planned = mon.current_plan().expected_requests
    assert planned <= 11
    state.stats.clear()
    state.faults.script([fault, fault])  # only the first page fails (and its retry)
    r = await mon.run_cycle()
    assert not r.ok
    assert served(state) <= 2  # the failed page and its retry, then nothing
    assert "list" in {p.kind for p in r.problems} or "rate_limited" in {
        p.kind for p in r.problems}
    state.stats.clear()
    state.faults.script([], then=fault)  # everything fails
    r = await mon.run_cycle()
    assert served(state) <= planned * 2  # each planned request and one retry, no more
    state.faults.script([], then=Fault.NONE)
    mon.refresh_now()  # r: no waiting out the failing list's own backoff
    r = await mon.run_cycle()
    assert r.ok and not r.problems


async def test_failed_later_page_is_not_replaced_by_details() -> None:
    state = make_state(1000)
    mon = Monitor(demo_client(state, retry=_fast_retry()))
    mon.watch(state.jobs)
    await mon.run_cycle()
    state.stats.clear()
    state.faults.script([Fault.NONE, Fault.RATE_LIMIT])  # page 1 fine, one later page not
    r = await mon.run_cycle()
    assert [p.kind for p in r.problems] == ["rate_limited"]
    assert served(state) <= mon.current_plan().expected_requests + 1


async def _run_blocked(mon: Monitor, state: SimState, seconds: float
                       ) -> tuple[list[Update], asyncio.Task[None]]:
    results: list[Update] = []
    task = asyncio.create_task(mon.run(results.append))
    await asyncio.sleep(seconds)
    assert not task.done()  # the loop lives on while blocked
    return results, task


@pytest.mark.parametrize("code", [-1, -2])
async def test_auth_failure_over_many_run_loop_cycles_is_not_a_storm(code: int) -> None:
    """Monitor.run() at the shortest interval: one failing cycle, one confirming request,
    then nothing at all until the operator acts; then polling resumes."""
    state = make_state(12, allowed_ips={KEY: {"192.0.2.1"}} if code == -2 else {})
    with serve_in_thread(state) as sim:
        bad = make_client(sim.base_url, secret="wrong" if code == -1 else SECRET)
        mon = Monitor(bad, interval=1.0)
        mon.watch(list(state.jobs)[:5])
        started = time.monotonic()
        results, task = await _run_blocked(mon, state, 4.5)
        kind = "auth" if code == -1 else "ip_denied"
        assert mon.blocked
        assert state.stats[f"code{code}"] == state.stats["requests"] == 2  # list, then probe
        # A failing list and the probe, each with its cycle's end; nothing while blocked.
        assert len(results) == 4
        problem = results[-1].problems[0]
        assert problem.kind == kind and f"({code})" in problem.message
        assert "then press r" in problem.fix
        if code == -1:
            assert "callwatch login" in problem.fix
        else:
            assert "allow-list" in problem.message
        # The operator fixes it: a new client (-1) or the IP allowed and r pressed (-2).
        if code == -1:
            good = make_client(sim.base_url)
            mon.set_client(good)
        else:
            state.config.allowed_ips[KEY].add("127.0.0.1")
            mon.refresh_now()
        deadline = time.monotonic() + 5
        while not (results and results[-1].ok and not results[-1].problems):
            assert time.monotonic() < deadline, "polling did not resume"
            await asyncio.sleep(0.05)
        assert not mon.blocked
        before = len(results)
        await asyncio.sleep(2.2)
        assert len(results) > before  # polling continues at the interval
        mon.stop()
        await asyncio.wait_for(task, 3)
        assert time.monotonic() - started < 20
        await bad.aclose()
        if code == -1:
            await good.aclose()


async def test_account_switch_mid_cycle_leaves_no_stale_or_internal_problem() -> None:
    """The TUI's profile switch: ``set_client(new)`` then ``await old.aclose()`` while a
    cycle is retrying on the old client. That cycle ended with "Internal error in
    callwatch: RuntimeError" (a closed httpx client) and put the old account's problems
    back on the banner right after the switch had cleared them."""
    state = make_state(12)
    old = demo_client(state, retry=RetryPolicy(attempts=3, base_delay=0.3, max_delay=0.3,
                                               deadline=5))
    mon = Monitor(old)
    mon.watch(state.jobs)
    await mon.run_cycle()
    state.faults.script([Fault.HTTP_503])  # the next request fails and is retried in 0.3 s
    cycle = asyncio.create_task(mon.run_cycle())
    await asyncio.sleep(0.1)
    new = demo_client(state)
    mon.set_client(new)
    await old.aclose()
    result = await cycle
    assert "internal" not in {p.kind for p in result.problems}, result.problems
    assert not mon.problems  # the old account's failure is not the new one's banner
    after = await mon.run_cycle()
    assert after.ok and not after.problems
    await new.aclose()


async def test_closed_client_raises_a_typed_error() -> None:
    from callwatch.errors import CallwatchError

    state = make_state(3)
    client = demo_client(state)
    await client.aclose()
    with pytest.raises(CallwatchError):
        await client.detail(next(iter(state.jobs)))
