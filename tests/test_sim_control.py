"""The unsigned /_sim/ control endpoints refuse absurd input (HTTP 400, one line, nothing
changed) and the signed API keeps answering afterwards (issue 12, item 7)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from callwatch.api.client import TimeWindow
from callwatch.sim.app import SimState
from callwatch.sim.control import MAX_CLOCK_OFFSET, MAX_SPAN
from callwatch.sim.remote import control
from callwatch.sim.server import RunningSim, serve_in_thread
from tests.helpers.common import make_client, make_state

FOUR_THOUSAND_DIGITS = "9" * 4000

# (endpoint, raw JSON body): every one must be refused.
BAD_INPUT: list[tuple[str, str]] = [
    ("advance", '{"seconds": 1e308}'),
    ("advance", '{"seconds": 1e400}'),  # parses as inf
    ("advance", '{"seconds": -5}'),
    ("advance", '{"seconds": NaN}'),
    ("advance", '{"seconds": "60"}'),
    ("advance", '{"seconds": true}'),
    ("advance", '{"secs": 60}'),
    ("skew", '{"seconds": NaN}'),
    ("skew", '{"seconds": -Infinity}'),
    ("skew", '{"seconds": 1e12}'),
    ("skew", f'{{"seconds": {FOUR_THOUSAND_DIGITS}}}'),
    ("speed", '{"speed": -1}'),
    ("speed", '{"speed": 1e9}'),
    ("speed", '{"speed": NaN}'),
    ("speed", "{}"),
    ("jobs", f'{{"taskName": "x", "numCnt": {FOUR_THOUSAND_DIGITS}}}'),
    ("jobs", '{"taskName": "x", "numCnt": 1000000000000000000}'),  # 19 digits
    ("jobs", '{"taskName": "x", "numCnt": -1}'),
    ("jobs", '{"taskName": "x", "numCnt": 10.5}'),
    ("jobs", '{"taskName": "x", "jobId": -5}'),
    ("jobs", '{"taskName": "x", "jobId": 0}'),
    ("jobs", '{"taskName": "x", "jobId": "5000700"}'),
    ("jobs", '{"taskName": "x", "dialRate": 0}'),
    ("jobs", '{"taskName": "x", "dialRate": 1e308}'),
    ("jobs", '{"taskName": "x", "startIn": 1e300}'),
    ("jobs", '{"taskName": 5}'),
    ("jobs", '{"taskName": null}'),
    ("jobs", '{"taskName": "x", "colour": "red"}'),
    ("task_fault", '{"jobId": 5000601, "fault": "explode"}'),
    ("task_fault", '{"jobId": -1, "fault": "hang"}'),
    ("task_fault", '{"jobId": 5000601.0, "fault": "hang"}'),
    ("task_fault", '{"fault": "hang"}'),
    ("task_fault", '{"jobId": 5000601}'),
    ("list_lie", '{"pages": -1}'),
    ("list_lie", '{"pages": 10000000000000000}'),
    ("list_lie", '{"recordsPerPage": 101}'),
    ("list_lie", '{"fill": "sideways"}'),
    ("faults", '{"profile": "mayhem"}'),
    ("faults", '{"profile": ["chaos"]}'),
    ("advance", "{"),
    ("advance", "[1]"),
    ("advance", '"seconds"'),
    ("advance", "[" * 100_000 + "]" * 100_000),
    ("jobs", json.dumps({"taskName": "x" * (5 * 1024 * 1024)})),
]


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[RunningSim]:
    """One server for all the refusals: each leaves it unchanged (that is the test)."""
    with serve_in_thread(make_state()) as running:
        yield running


def snapshot(state: SimState) -> tuple[Any, ...]:
    return (state.skew, state.clock.offset, state.clock.speed, len(state.jobs),
            state.faults.profile, dict(state.task_faults), state.list_lie)


def post_raw(base_url: str, what: str, body: str) -> httpx.Response:
    return httpx.post(f"{base_url}/_sim/{what}", content=body.encode(), timeout=10,
                      headers={"content-type": "application/json"})


async def assert_signed_api_works(base_url: str, job_id: int) -> None:
    async with make_client(base_url) as client:
        page = await client.query(TimeWindow.last(days=2))
        assert page.records
        assert (await client.detail(job_id)).job_id == job_id


@pytest.mark.parametrize(("what", "body"), BAD_INPUT,
                         ids=[f"{w}:{b[:30]}" for w, b in BAD_INPUT])
async def test_absurd_control_input_is_refused_and_changes_nothing(
        shared_sim: RunningSim, what: str, body: str) -> None:
    state = shared_sim.state
    before = snapshot(state)
    resp = post_raw(shared_sim.base_url, what, body)
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/json")
    assert "\n" not in resp.text and len(resp.text) < 300
    assert set(resp.json()) == {"error"} and resp.json()["error"]
    assert snapshot(state) == before
    await assert_signed_api_works(shared_sim.base_url, min(state.jobs))


async def test_the_clock_cannot_be_pushed_past_printable_dates(live_sim: RunningSim) -> None:
    steps = int(MAX_CLOCK_OFFSET // MAX_SPAN)
    for _ in range(steps):
        assert control(live_sim.base_url, "advance", {"seconds": MAX_SPAN})["offset"] > 0
    offset = live_sim.state.clock.offset
    resp = post_raw(live_sim.base_url, "advance", json.dumps({"seconds": MAX_SPAN}))
    assert resp.status_code == 400 and live_sim.state.clock.offset == offset
    # Fifty simulated years on, every task still reads (dates and all).
    await assert_signed_api_works(live_sim.base_url, min(live_sim.state.jobs))


async def test_extreme_but_valid_input_keeps_the_api_answering(live_sim: RunningSim) -> None:
    base = live_sim.base_url
    control(base, "skew", {"seconds": -MAX_SPAN})
    control(base, "skew", {"seconds": 0})
    big = control(base, "jobs", {"taskName": "huge", "numCnt": 10**18 - 1,
                                 "dialRate": 1e-6, "startIn": -MAX_SPAN,
                                 "jobId": 10**18 - 1})["jobId"]
    tiny = control(base, "jobs", {"taskName": "tiny", "numCnt": 0, "dialRate": 1e6})["jobId"]
    control(base, "speed", {"speed": 1000})
    control(base, "speed", {"speed": 0})
    for job_id in (big, tiny):
        await assert_signed_api_works(base, job_id)


def test_valid_input_applies_and_get_only_reads(live_sim: RunningSim) -> None:
    base, state = live_sim.base_url, live_sim.state
    assert control(base, "faults", {"profile": "flaky"}) == {"profile": "flaky"}
    assert control(base, "faults") == {"profile": "flaky"}  # GET changes nothing
    control(base, "faults", {"profile": "none"})
    assert control(base, "skew", {"seconds": 120.5}) == {"seconds": 120.5}
    assert state.skew == 120.5
    now = state.clock.now()
    control(base, "advance", {"seconds": 3600})
    assert state.clock.now() >= now + 3600
    assert control(base, "speed", {"speed": 0})["speed"] == 0
    frozen = state.clock.now()
    assert state.clock.now() == frozen
    job = control(base, "jobs", {"taskName": "made", "numCnt": 10, "jobId": 7000000})
    assert job == {"jobId": 7000000} and state.jobs[7000000].name == "made"
    assert control(base, "jobs", {})["jobId"] == 7000001  # every field has a default
    resp = httpx.get(f"{base}/_sim/nonsense", timeout=5)
    assert resp.status_code == 404


def test_control_endpoints_keep_their_existing_callers_working(live_sim: RunningSim) -> None:
    """The soak and benchmarks post these shapes; stats accepts a bodiless POST."""
    base = live_sim.base_url
    control(base, "advance", {"seconds": 0})
    control(base, "skew", {"seconds": 0})
    resp = httpx.post(f"{base}/_sim/stats", timeout=5)
    assert resp.status_code == 200 and resp.json() == {}
    job_id = control(base, "jobs", {"taskName": "t", "text": "t", "numCnt": 1000,
                                    "dialRate": 1.0, "jobId": 7000001, "startIn": 600})
    assert job_id == {"jobId": 7000001}
