"""The client against the simulator over real sockets (uvicorn on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest

from callwatch.api.client import RetryPolicy, Timeouts
from callwatch.api.models import JobState
from callwatch.api.types import TimeWindow
from callwatch.errors import (
    ApiTimeoutError,
    AuthError,
    BadResponseError,
    HttpStatusError,
    IpDeniedError,
    NetworkError,
    NotFoundError,
    ParameterError,
    RateLimitedError,
    ServerInternalError,
    TimestampError,
)
from callwatch.sim.faults import Fault
from callwatch.sim.server import RunningSim, free_port, serve_in_thread
from tests.helpers.common import KEY, SECRET, make_client, make_state


def window() -> TimeWindow:
    return TimeWindow.last(days=2)


async def test_happy_path_detail_and_query(live_sim: RunningSim) -> None:
    async with make_client(live_sim.base_url) as client:
        page = await client.query(window(), size=5)
        assert page.total == 12 and page.pages == 3 and len(page.records) == 5
        first = page.records[0]
        job = await client.detail(first.job_id)
        truth = live_sim.state.ground_truth(first.job_id)
        assert job.job_id == first.job_id and job.task_name == truth["taskName"]
        assert job.num_cnt == truth["numCnt"] and job.has_detail
        assert client.requests_sent == 2


async def test_paging_across_several_pages(live_sim: RunningSim) -> None:
    async with make_client(live_sim.base_url) as client:
        ids = [j.job_id async for j in client.iter_query(window(), size=5)]
    assert sorted(ids) == sorted(live_sim.state.jobs)
    assert len(ids) == len(set(ids)) == 12
    assert live_sim.state.stats["query"] == 3


async def test_state_filter(live_sim: RunningSim) -> None:
    async with make_client(live_sim.base_url) as client:
        jobs = [j async for j in client.iter_query(window(), [JobState.CALLING])]
    assert jobs and all(j.state is JobState.CALLING for j in jobs)


async def test_unknown_id_is_not_found(live_sim: RunningSim) -> None:
    async with make_client(live_sim.base_url) as client:
        with pytest.raises(NotFoundError) as info:
            await client.detail(123)
    assert info.value.code == -24


async def test_bad_parameter(live_sim: RunningSim) -> None:
    async with make_client(live_sim.base_url) as client:
        with pytest.raises(ParameterError):
            await client.query(window(), size=500)


async def test_bad_secret_is_one_request_no_retry(live_sim: RunningSim) -> None:
    async with make_client(live_sim.base_url, secret="wrong") as client:
        with pytest.raises(AuthError) as info:
            await client.detail(5000600)
    assert info.value.code == -1 and "callwatch login" in info.value.message
    assert live_sim.state.stats["requests"] == 1


async def test_unknown_key_is_auth_error(live_sim: RunningSim) -> None:
    async with make_client(live_sim.base_url, key="nobody") as client:
        with pytest.raises(AuthError):
            await client.detail(5000600)


async def test_ip_not_allowed() -> None:
    state = make_state(allowed_ips={KEY: {"10.9.9.9"}})
    with serve_in_thread(state) as sim:
        async with make_client(sim.base_url) as client:
            with pytest.raises(IpDeniedError):
                await client.detail(5000600)
        assert state.stats["requests"] == 1


async def test_rate_limit_is_typed_and_not_hammered() -> None:
    state = make_state(rate_limit=0.001, rate_burst=2)
    with serve_in_thread(state) as sim:
        async with make_client(sim.base_url) as client:
            await client.detail(5000600)
            await client.detail(5000600)
            with pytest.raises(RateLimitedError):
                await client.detail(5000600)
        assert state.stats["requests"] == 3


@pytest.mark.parametrize("skew", [900.0, -900.0])
async def test_clock_skew_is_corrected_from_date_header(live_sim: RunningSim,
                                                        skew: float) -> None:
    live_sim.state.skew = skew
    async with make_client(live_sim.base_url) as client:
        job = await client.detail(5000600)
        assert job.job_id == 5000600
        assert abs(client.clock_offset - skew) < 3
        before = live_sim.state.stats["requests"]
        await client.detail(5000600)  # the offset is kept: no second -16
        assert live_sim.state.stats["requests"] == before + 1
    assert live_sim.state.stats["code-16"] == 1


async def test_timestamp_error_without_usable_date(live_sim: RunningSim) -> None:
    # The server clock is right, ours is not, and the Date header agrees with us:
    # nothing to correct, so the error surfaces instead of a retry loop.
    live_sim.state.config.timestamp_window = -1
    async with make_client(live_sim.base_url) as client:
        with pytest.raises(TimestampError):
            await client.detail(5000600)
    assert live_sim.state.stats["requests"] == 1


async def test_internal_error_is_retried_then_raised(live_sim: RunningSim) -> None:
    live_sim.state.faults.script([], then=Fault.INTERNAL)
    async with make_client(live_sim.base_url) as client:
        with pytest.raises(ServerInternalError):
            await client.detail(5000600)
    assert live_sim.state.stats["requests"] == 0  # answered by the fault layer
    assert live_sim.state.stats["fault_internal"] == 3  # three attempts


@pytest.mark.parametrize(("fault", "error"), [
    (Fault.HTTP_503, HttpStatusError), (Fault.TRUNCATED, BadResponseError),
    (Fault.MALFORMED, BadResponseError), (Fault.DROP, NetworkError),
])
async def test_transport_faults_are_typed(live_sim: RunningSim, fault: Fault,
                                          error: type[Exception]) -> None:
    live_sim.state.faults.script([], then=fault)
    async with make_client(live_sim.base_url) as client:
        with pytest.raises(error):
            await client.detail(5000600)
    assert live_sim.state.stats[f"fault_{fault.value}"] == 3


async def test_transient_fault_recovers_on_retry(live_sim: RunningSim) -> None:
    live_sim.state.faults.script([Fault.HTTP_503, Fault.DROP])
    async with make_client(live_sim.base_url) as client:
        job = await client.detail(5000600)
    assert job.job_id == 5000600


def _html_502_server() -> tuple[int, threading.Event]:
    """A proxy that answers every request with a 502 HTML page."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    stop = threading.Event()

    def loop() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n"
                             b"Content-Length: " + str(len(body)).encode() +
                             b"\r\nConnection: close\r\n\r\n" + body)
        srv.close()

    threading.Thread(target=loop, daemon=True).start()
    return srv.getsockname()[1], stop


async def test_502_html_page() -> None:
    port, stop = _html_502_server()
    try:
        async with make_client(f"http://127.0.0.1:{port}") as client:
            with pytest.raises(HttpStatusError) as info:
                await client.detail(1)
        assert info.value.status == 502 and "502" in info.value.message
    finally:
        stop.set()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    yield srv.getsockname()[1]
    srv.close()


async def test_silent_server_times_out_within_the_deadline(silent_server: int) -> None:
    client = make_client(f"http://127.0.0.1:{silent_server}",
                         timeouts=Timeouts(connect=1, read=0.5, write=1, pool=1),
                         retry=RetryPolicy(attempts=3, base_delay=0.05, deadline=3.0))
    started = time.monotonic()
    async with client:
        with pytest.raises(ApiTimeoutError):
            await client.detail(1)
    assert time.monotonic() - started < 3.5
    assert client.requests_sent == 3


async def test_default_deadline_is_under_30s() -> None:
    assert RetryPolicy().deadline <= 30


async def test_connection_refused() -> None:
    port = free_port()
    async with make_client(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(NetworkError) as info:
            await client.detail(1)
    assert "cannot connect" in info.value.message


def _raw_request(base: str, path: str, key: str, secret: str, body: object = None,
                 ts: int | None = None) -> dict[str, object]:
    stamp = str(int(time.time()) if ts is None else ts)
    sign = hashlib.md5((key + secret + stamp).encode()).hexdigest().upper()  # case-insensitive
    req = urllib.request.Request(
        base + path, method="GET" if body is None else "POST",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json;charset=UTF-8", "Api-Key": key,
                 "Timestamp": stamp, "Sign": sign})
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200 and resp.headers["Date"]
        return json.loads(resp.read())  # type: ignore[no-any-return]


def test_hand_signed_requests(live_sim: RunningSim) -> None:
    base = live_sim.base_url
    body = _raw_request(base, "/voice/group/call/detail/5000600", KEY, SECRET)
    assert body["code"] == 0 and body["data"]["jobId"] == 5000600  # type: ignore[index]
    assert _raw_request(base, "/voice/group/call/detail/5000600", KEY, "nope")["code"] == -1
    old = int(time.time()) - 301
    assert _raw_request(base, "/voice/group/call/detail/5000600", KEY, SECRET, ts=old)[
        "code"] == -16
    listing = _raw_request(base, "/voice/group/call/query", KEY, SECRET, {
        "current": 1, "size": 100,
        "params": {"strTime": "2020-01-01 00:00:00", "endTime": "2099-01-01 00:00:00"}})
    assert listing["code"] == 0 and listing["data"]["total"] == 12  # type: ignore[index]
    missing = _raw_request(base, "/voice/group/call/query", KEY, SECRET,
                           {"current": 1, "size": 10, "params": {}})
    assert missing["code"] == -22 and missing["data"] is None


def test_unknown_path_is_404(live_sim: RunningSim) -> None:
    req = urllib.request.Request(live_sim.base_url + "/nope")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=5)
    assert info.value.code == 404


@pytest.mark.parametrize("brand", ["onbuka", "laaffic"])
async def test_brand_prefix_and_id_key(brand: str) -> None:
    from callwatch.api.brands import Brand

    state = make_state(brand=Brand(brand))
    with serve_in_thread(state) as sim:
        async with make_client(sim.base_url, brand=Brand(brand)) as client:
            job = await client.detail(5000600)
            assert job.job_id == 5000600
        async with make_client(sim.base_url, brand=Brand.ITNIO) as client:
            with pytest.raises(HttpStatusError):  # /voice/... does not exist there
                await client.detail(5000600)
        raw = _raw_request(sim.base_url, "/v3/voice/group/call/detail/5000600", KEY, SECRET)
        assert (Brand(brand).id_key in raw["data"])  # type: ignore[operator]


async def test_cancel_and_suspend(live_sim: RunningSim) -> None:
    state = live_sim.state
    now = state.clock.now()
    calling = [j.job_id for j in state.jobs.values() if j.status_at(now) == 1]
    async with make_client(live_sim.base_url) as client:
        await client.suspend([calling[0]])
        await client.cancel([calling[1]])
        assert (await client.detail(calling[0])).state is JobState.SUSPENDED
        assert (await client.detail(calling[1])).state is JobState.CANCELLED
        from callwatch.errors import ApiError

        with pytest.raises(ApiError) as info:
            await client.cancel([calling[1]])
        assert info.value.code == -54


async def test_counters_move_over_time(live_sim: RunningSim) -> None:
    live_sim.state.clock.advance(0)
    async with make_client(live_sim.base_url) as client:
        first = {j.job_id: j.called async for j in client.iter_query(window())}
        live_sim.state.clock.advance(30)
        await asyncio.sleep(0.6)  # the list cache is per half second of sim time
        second = {j.job_id: j.called async for j in client.iter_query(window())}
    moved = [i for i in first if (second[i] or 0) > (first[i] or 0)]
    assert moved


def test_window_days() -> None:
    w = TimeWindow.last(days=1)
    assert w.end - w.start == timedelta(days=2)
