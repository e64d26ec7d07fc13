"""Per-task scripted faults and the lying list endpoint, over the real simulator on
loopback (uvicorn): the faulty task fails its own way while the others answer."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from callwatch.api.client import ApiClient, RetryPolicy, Timeouts, TimeWindow
from callwatch.errors import (
    ApiTimeoutError,
    BadResponseError,
    HttpStatusError,
    NotFoundError,
)
from callwatch.sim.remote import (
    ControlRejected,
    clear_task_faults,
    control,
    set_list_lie,
    set_task_fault,
)
from callwatch.sim.server import RunningSim, serve_in_thread
from tests.helpers.common import KEY, SECRET, make_client, make_state

QUERY = {"current": 1, "size": 100,
         "params": {"strTime": "2020-01-01 00:00:00", "endTime": "2099-01-01 00:00:00"}}


def signed_headers() -> dict[str, str]:
    ts = str(int(time.time()))
    sign = hashlib.md5(f"{KEY}{SECRET}{ts}".encode(), usedforsecurity=False).hexdigest()
    return {"Api-Key": KEY, "Timestamp": ts, "Sign": sign,
            "Content-Type": "application/json;charset=UTF-8"}


def raw_detail(base_url: str, job_id: int, timeout: float = 5.0) -> httpx.Response:
    return httpx.get(f"{base_url}/voice/group/call/detail/{job_id}",
                     headers=signed_headers(), timeout=timeout)


def quick_client(base_url: str, read: float = 0.5) -> ApiClient:
    """One try, short timeouts: a failure shows at once, as its own kind."""
    return make_client(base_url, timeouts=Timeouts(connect=2, read=read, write=2, pool=2),
                       retry=RetryPolicy(attempts=1, deadline=5))


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with serve_in_thread(make_state(6)) as running:
        yield running


def ids_of(sim: RunningSim) -> list[int]:
    return sorted(sim.state.jobs)


def test_http_502_is_an_html_page_for_that_task_only(sim: RunningSim) -> None:
    bad, good = ids_of(sim)[:2]
    set_task_fault(sim.base_url, bad, "http_502")
    resp = raw_detail(sim.base_url, bad)
    assert resp.status_code == 502
    assert resp.headers["content-type"].startswith("text/html")
    assert "Bad Gateway" in resp.text and resp.text.startswith("<html>")
    ok = raw_detail(sim.base_url, good)
    assert ok.status_code == 200 and ok.json()["data"]["jobId"] == good
    assert sim.state.stats["task_fault_http_502"] == 1


def test_truncated_is_the_real_answer_cut_short(sim: RunningSim) -> None:
    bad = ids_of(sim)[0]
    whole = raw_detail(sim.base_url, bad).text
    set_task_fault(sim.base_url, bad, "truncated")
    resp = raw_detail(sim.base_url, bad)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    assert 0 < len(resp.text) < len(whole)
    assert whole.startswith(resp.text[:20])  # the same answer, cut
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.text)


def test_wrong_shape_is_a_json_list(sim: RunningSim) -> None:
    bad = ids_of(sim)[0]
    set_task_fault(sim.base_url, bad, "wrong_shape")
    resp = raw_detail(sim.base_url, bad)
    assert resp.status_code == 200 and isinstance(resp.json(), list)


def test_not_found_is_the_apis_minus_24(sim: RunningSim) -> None:
    bad = ids_of(sim)[0]
    set_task_fault(sim.base_url, bad, "not_found")
    resp = raw_detail(sim.base_url, bad)
    assert resp.status_code == 200
    assert resp.json() == {"code": -24, "msg": "Data does not exist", "data": None}
    # Still an API answer: an unsigned request is refused before the task is looked at.
    unsigned = httpx.get(f"{sim.base_url}/voice/group/call/detail/{bad}", timeout=5)
    assert unsigned.json()["code"] == -1


async def test_each_fault_reaches_the_client_as_its_own_kind(sim: RunningSim) -> None:
    ids = ids_of(sim)
    kinds = {"http_502": HttpStatusError, "truncated": BadResponseError,
             "wrong_shape": BadResponseError, "not_found": NotFoundError,
             "hang": ApiTimeoutError}
    for job_id, kind in zip(ids, kinds, strict=False):
        set_task_fault(sim.base_url, job_id, kind)
    async with quick_client(sim.base_url) as client:
        results = await asyncio.gather(*(client.detail(i) for i in ids),
                                       return_exceptions=True)
        for kind, result in zip(kinds, results, strict=False):
            assert isinstance(result, kinds[kind]), (kind, result)
        for job_id, result in zip(ids[len(kinds):], results[len(kinds):], strict=True):
            assert not isinstance(result, BaseException) and result.job_id == job_id
        assert len(ids) > len(kinds)  # at least one healthy task was asked alongside
        # The list endpoint keeps working and still lists the faulty tasks.
        listed = [j.job_id async for j in client.iter_query(TimeWindow.last(days=2))]
        assert set(ids) <= set(listed)
        clear_task_faults(sim.base_url)
        again = await asyncio.gather(*(client.detail(i) for i in ids))
        assert [j.job_id for j in again] == ids


async def test_a_hang_holds_back_only_its_own_task(sim: RunningSim) -> None:
    hung, *others = ids_of(sim)
    set_task_fault(sim.base_url, hung, "hang")
    async with quick_client(sim.base_url, read=2.0) as client:
        waiting = asyncio.ensure_future(client.detail(hung))
        # Several rounds of healthy requests complete while the hung one is pending.
        for _ in range(3):
            jobs = await asyncio.gather(*(client.detail(i) for i in others))
            assert [j.job_id for j in jobs] == others
        assert not waiting.done()
        with pytest.raises(ApiTimeoutError):
            await waiting
        set_task_fault(sim.base_url, hung, "none")
        assert (await client.detail(hung)).job_id == hung
    assert control(sim.base_url, "task_fault") == {"faults": {}}


def test_a_hung_request_ends_when_its_client_gives_up(sim: RunningSim) -> None:
    hung = ids_of(sim)[0]
    set_task_fault(sim.base_url, hung, "hang")
    with pytest.raises(httpx.ReadTimeout):
        raw_detail(sim.base_url, hung, timeout=0.3)
    deadline = time.monotonic() + 10
    while sim.state.hangs and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not sim.state.hangs  # the server does not hold it for an hour


def test_shutdown_releases_hung_requests_at_once() -> None:
    state = make_state(2)
    hung = min(state.jobs)
    answers: list[httpx.Response | BaseException] = []

    def ask(base_url: str) -> None:
        try:
            answers.append(raw_detail(base_url, hung, timeout=30))
        except httpx.HTTPError as exc:
            answers.append(exc)

    with serve_in_thread(state) as running:
        set_task_fault(running.base_url, hung, "hang")
        thread = threading.Thread(target=ask, args=(running.base_url,))
        thread.start()
        deadline = time.monotonic() + 10
        while not state.hangs and time.monotonic() < deadline:
            time.sleep(0.02)
        assert state.hangs
    thread.join(timeout=10)
    assert not thread.is_alive()
    # Released by the simulator (not cut off by uvicorn's graceful-shutdown timeout).
    assert len(answers) == 1 and isinstance(answers[0], httpx.Response)
    assert answers[0].status_code == 503 and "shutting down" in answers[0].text


async def test_list_lie_claims_a_billion_pages(sim: RunningSim) -> None:
    assert set_list_lie(sim.base_url) == {"pages": 10**9, "recordsPerPage": 3,
                                          "fill": "repeat"}
    pages = []
    for page_no in (1, 2, 10**6):
        body = {**QUERY, "current": page_no}
        resp = httpx.post(f"{sim.base_url}/voice/group/call/query", json=body,
                          headers=signed_headers(), timeout=5)
        pages.append(resp.json()["data"])
    for data in pages:
        assert data["pages"] == 10**9 and data["total"] == 3 * 10**9
        assert [r["jobId"] for r in data["records"]] == \
               [r["jobId"] for r in pages[0]["records"]]
        assert len(data["records"]) == 3
    set_list_lie(sim.base_url, pages=10**9, records_per_page=4, fill="real")
    async with quick_client(sim.base_url) as client:
        first = await client.query(TimeWindow.last(days=2), page=1)
        second = await client.query(TimeWindow.last(days=2), page=2)
        past = await client.query(TimeWindow.last(days=2), page=3)
        assert first.pages == 10**9 and len(first.records) == 4
        assert {j.job_id for j in second.records}.isdisjoint(j.job_id for j in first.records)
        assert len(second.records) == 2 and len(past.records) == 0
        set_list_lie(sim.base_url, pages=0)
        truth = await client.query(TimeWindow.last(days=2))
        assert truth.pages == 1 and len(truth.records) == 6


def test_remote_helper_reports_a_rejection(sim: RunningSim) -> None:
    with pytest.raises(ControlRejected) as info:
        set_task_fault(sim.base_url, ids_of(sim)[0], "explode")
    assert info.value.status == 400 and "fault" in info.value.reason
    assert sim.state.task_faults == {}

