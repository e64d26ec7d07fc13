"""The simulator's state machine, stepped with a manual clock."""

from __future__ import annotations

import random

from callwatch.sim.app import SimConfig, SimState
from callwatch.sim.model import (
    CALLING,
    COMPLETED,
    SUBMITTING,
    WAITING,
    SimClock,
    SimJob,
    demo_jobs,
)
from tests.helpers.common import ManualClock


def test_lifecycle_submitting_waiting_calling_completed() -> None:
    job = SimJob(job_id=1, name="t", created=0.0, num_cnt=100, start=20.0, dial_rate=2.0,
                 answer_ratio=0.6, talk_seconds=15)
    assert job.status_at(1.0) == SUBMITTING
    assert job.status_at(10.0) == WAITING
    assert job.status_at(30.0) == CALLING
    assert job.status_at(71.0) == COMPLETED
    prev = None
    for t in range(0, 80):
        c = job.counters(float(t))
        assert c["success"] + c["fail"] == c["called"] <= 100
        if prev is not None:
            assert c["called"] >= prev["called"] and c["success"] >= prev["success"]
        prev = c
    rec = job.detail_record(71.0, "jobId")
    assert rec["status"] == COMPLETED and rec["rate"] == "100"
    assert rec["finishTime"] is not None and rec["finishTime"] == rec["mdfTime"]
    assert rec["successRate"] == "60.00" and rec["acd"] == "15s"
    assert rec["callTotal"] >= rec["success"] + rec["fail"]


def test_detail_record_has_vendor_shape() -> None:
    from tests.helpers.common import fixture_json

    sample = fixture_json("detail-completed.json")["data"]
    job = SimJob(job_id=1, name="t", created=0.0, num_cnt=10, start=5.0, dial_rate=1.0,
                 answer_ratio=0.5, talk_seconds=10)
    rec = job.detail_record(8.0, "jobId")
    assert set(rec) == set(sample)
    for key in ("rate", "successRate", "toseatNumRate", "callLossNumRate", "acd"):
        assert isinstance(rec[key], str), key
    for key in ("jobId", "status", "numCnt", "success", "fail", "callTotal", "maxCalls"):
        assert isinstance(rec[key], int), key


def test_demo_mix_has_every_state_and_large_mix_stays_active() -> None:
    now = 1_780_000_000.0
    jobs = demo_jobs(now, 12, random.Random(3))
    states = {j.status_at(now) for j in jobs}
    assert states >= {0, 1, 2, 3, 4, 5, 6}
    big = demo_jobs(now, 1000, random.Random(3))
    active = sum(j.status_at(now + 300) in (WAITING, CALLING) for j in big)
    assert active >= 900


def test_sim_clock_speed_and_advance() -> None:
    real = ManualClock(100.0)
    clock = SimClock(real, speed=10.0)
    real.advance(2.0)
    assert clock.now() == 120.0
    clock.advance(5)
    assert clock.now() == 125.0


def test_cancel_freezes_counters() -> None:
    state = SimState(SimConfig())
    state.populate(12)
    job = next(j for j in state.jobs.values() if j.status_at(state.clock.now()) == CALLING)
    job.stopped_at, job.stopped_status = state.clock.now(), 4
    before = job.counters(state.clock.now())
    state.clock.advance(600)
    after = job.counters(state.clock.now())
    assert after["called"] == before["called"] and after["status"] == 4
