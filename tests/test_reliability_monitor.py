"""Monitor reliability: no request storms on failures, auth blocks over many cycles."""

from __future__ import annotations

import pytest

from callwatch.api.client import RetryPolicy
from callwatch.monitor import Monitor
from callwatch.sim.app import SimState
from callwatch.sim.faults import Fault
from callwatch.sim.server import demo_client
from tests.conftest import make_state


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
    mon.select(next(iter(state.jobs)))
    await mon.run_cycle()  # learns the account size: ~10 pages per cycle from now on
    planned = mon.current_plan().expected_requests
    assert planned <= 12
    state.stats.clear()
    state.faults.script([fault, fault])  # only the first page fails (and its retry)
    r = await mon.run_cycle()
    assert not r.ok
    assert served(state) <= planned + 2  # the failed page and its retry at most
    state.stats.clear()
    state.faults.script([], then=fault)  # everything fails
    r = await mon.run_cycle()
    assert served(state) <= planned * 2  # each planned request and one retry, no more
    state.faults.script([], then=Fault.NONE)
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
