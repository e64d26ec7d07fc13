"""The simulator's scripted faults do what they say (the soak relies on them)."""

from __future__ import annotations

import time

import pytest

from callwatch.api.client import RetryPolicy, Timeouts
from callwatch.errors import ApiTimeoutError
from callwatch.sim.faults import Fault, FaultPlan
from callwatch.sim.server import serve_in_thread
from tests.helpers.common import make_client, make_state


def test_scripted_slow_fault_has_a_delay() -> None:
    plan = FaultPlan("none")
    plan.script([Fault.SLOW], then=Fault.SLOW)
    assert plan.decide().delay == plan.slow_delay > 10  # longer than a read timeout
    assert plan.decide().delay == plan.slow_delay
    plan.script([Fault.HTTP_503])
    assert plan.decide().delay == 0.0


async def test_scripted_slow_fault_times_a_client_out_over_loopback() -> None:
    state = make_state(3)
    state.faults.slow_delay = 2.0
    job_id = next(iter(state.jobs))
    with serve_in_thread(state) as sim:
        async with make_client(sim.base_url,
                               timeouts=Timeouts(connect=1, read=0.3, write=1, pool=1),
                               retry=RetryPolicy(attempts=1, deadline=5)) as client:
            state.faults.script([Fault.SLOW])
            started = time.monotonic()
            with pytest.raises(ApiTimeoutError):
                await client.detail(job_id)
            assert time.monotonic() - started < 1.5
            assert state.stats["fault_slow"] == 1
            job = await client.detail(job_id)  # the script is used up: answered at once
            assert job.job_id == job_id
