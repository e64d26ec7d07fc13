"""callwatch's own HTTP/1.1 (``api/wire.py``, ``api/pool.py``) against a raw socket
server that answers as each test scripts it: framings, encodings, keep-alive, and the
hostile or broken answers that must cost one request and say what happened."""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from callwatch.api import pool as pool_mod
from callwatch.api import wire
from callwatch.api.client import ApiClient, RetryPolicy, Timeouts
from callwatch.api.pool import WireSender
from callwatch.errors import ApiTimeoutError, NetworkError
from tests.helpers.common import make_client, require_tools
from tests.hostile import envelope_app, self_signed, serve

DATA = {"jobId": 5000601, "taskName": "wire", "status": 1, "success": 3, "fail": 1}
BODY = json.dumps({"code": 0, "msg": "success", "data": DATA}).encode()
ONCE = RetryPolicy(attempts=1, deadline=10.0)

Answer = Callable[[int, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Seen:
    heads: list[bytes] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    connections: int = 0
    closed: int = 0  # connections whose client end was closed


def ok(body: bytes = BODY, extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%sContent-Length: %d"
            b"\r\n\r\n%s" % (extra, len(body), body))


@asynccontextmanager
async def server(answer: Answer) -> AsyncIterator[tuple[int, Seen]]:
    """Reads each request (head and Content-Length body); ``answer(n, writer)`` replies
    to the n-th request of the whole run (0-based)."""
    seen = Seen()
    handlers: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        seen.connections += 1
        try:
            while not writer.is_closing():
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                seen.heads.append(head)
                seen.bodies.append(await reader.readexactly(length))
                await answer(len(seen.heads) - 1, writer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            seen.closed += 1
        finally:
            writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield srv.sockets[0].getsockname()[1], seen
    finally:
        srv.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)


def client_for(port: int, **kwargs: object) -> ApiClient:
    kwargs.setdefault("retry", ONCE)
    return make_client(f"http://127.0.0.1:{port}", **kwargs)  # type: ignore[arg-type]


async def until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


async def test_plain_requests_share_one_kept_alive_connection() -> None:
    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        w.write(ok())

    async with server(answer) as (port, seen), client_for(port) as client:
        assert isinstance(client._sender, WireSender)  # no proxy, no transport: our own
        jobs = [await client.detail(5000601) for _ in range(3)]
    assert [j.task_name for j in jobs] == ["wire"] * 3
    assert seen.connections == 1 and len(seen.heads) == 3


async def test_a_post_sends_its_body_with_its_length() -> None:
    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        w.write(ok(json.dumps({"code": 0, "data": {"records": [], "total": 0}}).encode()))

    async with server(answer) as (port, seen), client_for(port) as client:
        from callwatch.api.client import TimeWindow
        page = await client.query(TimeWindow.last(1), None, 1, 10)
    assert page.records == ()
    head = seen.heads[0].decode()
    assert head.startswith("POST ") and " HTTP/1.1\r\n" in head
    sent = json.loads(seen.bodies[0])
    assert f"content-length: {len(seen.bodies[0])}" in head.lower() and sent["size"] == 10


async def test_chunked_split_across_writes_with_extensions_and_trailers() -> None:
    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        a, b = BODY[:17], BODY[17:]
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        await w.drain()
        for piece in (b"%x;ext=1\r\n" % len(a), a, b"\r\n%X\r\n" % len(b), b[:5]):
            w.write(piece)
            await w.drain()
            await asyncio.sleep(0.01)  # separate packets, whatever the timing
        w.write(b[5:] + b"\r\n0\r\nX-Trailer: yes\r\n\r\n")

    async with server(answer) as (port, seen), client_for(port) as client:
        first = await client.detail(5000601)
        second = await client.detail(5000601)  # the chunked response left it reusable
    assert first.task_name == second.task_name == "wire"
    assert seen.connections == 1


@pytest.mark.parametrize("coding", ["gzip", "deflate-zlib", "deflate-raw"])
async def test_compressed_bodies_are_decoded(coding: str) -> None:
    if coding == "gzip":
        body, name = gzip.compress(BODY), b"gzip"
    elif coding == "deflate-zlib":
        body, name = zlib.compress(BODY), b"deflate"
    else:
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body, name = packer.compress(BODY) + packer.flush(), b"deflate"

    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        w.write(ok(body, b"Content-Encoding: %s\r\n" % name))

    async with server(answer) as (port, seen), client_for(port) as client:
        job = await client.detail(5000601)
    assert job.task_name == "wire"
    assert "gzip, deflate" in seen.heads[0].decode()


async def test_http_10_body_to_the_end_then_a_new_connection() -> None:
    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + BODY)
        w.close()

    async with server(answer) as (port, seen), client_for(port) as client:
        assert (await client.detail(5000601)).task_name == "wire"
        assert (await client.detail(5000601)).task_name == "wire"
    assert seen.connections == 2


async def test_interim_100_continue_and_bare_newlines_are_read() -> None:
    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        w.write(b"HTTP/1.1 200 OK\nContent-Length: %d\n\n%s" % (len(BODY), BODY))

    async with server(answer) as (port, _), client_for(port) as client:
        assert (await client.detail(5000601)).task_name == "wire"


async def test_connection_close_and_extra_bytes_forbid_reuse() -> None:
    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        if n == 0:
            w.write(ok(extra=b"Connection: close\r\n"))
        elif n == 1:
            w.write(ok() + b"HTTP/1.1 200 OK\r\n")  # more than one response's worth
        else:
            w.write(ok())

    async with server(answer) as (port, seen), client_for(port) as client:
        for _ in range(3):
            assert (await client.detail(5000601)).task_name == "wire"
    assert seen.connections == 3


async def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        w.write(ok())
        if n == 0:
            await w.drain()
            w.close()  # keep-alive ended by the server, without a word

    async with server(answer) as (port, seen), client_for(port) as client:
        sender = client._sender
        assert isinstance(sender, WireSender)
        await client.detail(5000601)
        await until(lambda: not any(c.alive for c in sender._idle), "the close seen")
        assert (await client.detail(5000601)).task_name == "wire"
    assert seen.connections == 2


async def test_idle_connections_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_mod, "KEEPALIVE_EXPIRY", 0.0)

    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        w.write(ok())

    async with server(answer) as (port, seen), client_for(port) as client:
        await client.detail(5000601)
        await client.detail(5000601)
    assert seen.connections == 2


BROKEN = {
    "status line": b"HTTP/1.1 OK\r\n\r\n",
    "header line": b"HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 0\r\n\r\n",
    "space before colon": b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\n{}",
    "content-length": b"HTTP/1.1 200 OK\r\nContent-Length: 12, 13\r\n\r\n",
    "negative length": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    "chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "chunk end": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
    "transfer coding": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    "gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope",
    "not http": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
async def test_a_broken_response_fails_that_request_and_says_so(name: str) -> None:
    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        w.write(BROKEN[name] if n == 0 else ok())

    async with server(answer) as (port, seen), client_for(port) as client:
        with pytest.raises(NetworkError) as info:
            await client.detail(5000601)
        assert "broken HTTP response" in info.value.message
        # The connection it came on is gone; the next request is served afresh.
        assert (await client.detail(5000601)).task_name == "wire"
    assert seen.connections == 2


async def test_oversized_heads_and_bodies_are_refused_not_buffered(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "MAX_BODY", 1000)
    bomb = gzip.compress(b" " * 100_000)
    answers = [
        b"HTTP/1.1 200 OK\r\nX-Junk: " + b"a" * (wire.MAX_HEAD + 10),  # a head with no end
        b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n",  # refused from its header
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
        % (len(bomb), bomb),  # 100 KB once inflated
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"200\r\n" + b"x" * 512
        + b"\r\n" + b"300\r\n" + b"x" * 768 + b"\r\n0\r\n\r\n",
    ]

    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        w.write(answers[n] if n < len(answers) else ok())

    async with server(answer) as (port, _), client_for(port) as client:
        for expected in ("head is over", "over the 1,000", "inflates past", "over the 1,000"):
            with pytest.raises(NetworkError) as info:
                await client.detail(5000601)
            assert expected in info.value.message


async def test_a_response_cut_short_is_dropped_mid_response() -> None:
    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + BODY[:10])
        await w.drain()
        w.close()

    async with server(answer) as (port, _), client_for(port) as client:
        with pytest.raises(NetworkError) as info:
            await client.detail(5000601)
    assert "dropped mid-response" in info.value.message


async def test_a_silent_server_is_a_read_timeout() -> None:
    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        pass  # never answers; reads on, so it sees the client close

    timeouts = Timeouts(connect=2, read=0.2, write=2, pool=2)
    async with server(answer) as (port, seen), client_for(port, timeouts=timeouts) as client:
        with pytest.raises(ApiTimeoutError) as info:
            await client.detail(5000601)
        assert "read timeout" in info.value.message
        await until(lambda: seen.closed == 1, "the client closed that connection")


async def test_a_slow_but_steady_body_is_not_a_timeout() -> None:
    """The read timeout runs from the last bytes received, not from the request: the
    body takes twice the timeout, each gap a sixth of it."""
    step = len(BODY) // 12 + 1

    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY))
        for i in range(0, len(BODY), step):
            await w.drain()
            await asyncio.sleep(0.1)
            w.write(BODY[i:i + step])

    timeouts = Timeouts(connect=2, read=0.6, write=2, pool=2)
    async with server(answer) as (port, _), client_for(port, timeouts=timeouts) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert (await client.detail(5000601)).task_name == "wire"
        assert loop.time() - started > 0.6  # longer than the timeout, yet no timeout


async def test_a_refused_connection_says_so() -> None:
    srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    srv.close()
    await srv.wait_closed()
    async with client_for(port) as client:
        with pytest.raises(NetworkError) as info:
            await client.detail(5000601)
    assert "cannot connect" in info.value.message


async def test_a_cancelled_request_closes_its_connection() -> None:
    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        if n:
            w.write(ok())  # the first is never answered

    async with server(answer) as (port, seen), client_for(port) as client:
        task = asyncio.create_task(client.detail(5000601))
        await until(lambda: len(seen.heads) == 1, "the request arrived")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await until(lambda: seen.closed == 1, "the server saw the connection close")
        assert (await client.detail(5000601)).task_name == "wire"  # on a new one
    assert seen.connections == 2


async def test_a_header_with_a_line_break_is_never_sent() -> None:
    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        w.write(ok())

    async with server(answer) as (port, seen):
        sender = WireSender(f"http://127.0.0.1:{port}", Timeouts(), 2, {})
        with pytest.raises(wire.WireError) as info:
            await sender.send("GET", "/x", {"X-A": "1\r\nX-Injected: yes"}, None)
        assert not info.value.network and "line break" in str(info.value)
        await sender.aclose()
        assert sender.is_closed
    assert seen.heads == []


async def test_a_closed_sender_sends_nothing() -> None:
    sender = WireSender("http://127.0.0.1:9", Timeouts(), 2, {})
    await sender.aclose()
    with pytest.raises(wire.WireError):
        await sender.send("GET", "/", {}, None)


def test_the_base_url_sets_host_prefix_and_port() -> None:
    sender = WireSender("https://api.example.com/base/", Timeouts(), 2, {"User-Agent": "x"})
    request = sender._request("GET", "/voice/a", {"K": "v"}, None).decode()
    assert request.startswith("GET /base/voice/a HTTP/1.1\r\nHost: api.example.com\r\n")
    assert "User-Agent: x\r\nK: v\r\n\r\n" in request and "Content-Length" not in request
    v6 = WireSender("http://[::1]:8080", Timeouts(), 2, {})._request("GET", "/", {}, b"{}")
    assert b"Host: [::1]:8080\r\n" in v6 and v6.endswith(b"Content-Length: 2\r\n\r\n{}")
    with pytest.raises(ValueError):
        WireSender("ftp://example.com", Timeouts(), 2, {})


async def test_tls_with_the_ca_from_ssl_cert_file(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Over TLS (uvicorn, a self-signed certificate): trusted through SSL_CERT_FILE as
    httpx would trust it, the host name checked, the connection kept alive."""
    require_tools("openssl")
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with serve(envelope_app({"code": 0, "msg": "ok", "data": DATA}), certfile=cert,
               keyfile=key) as url:
        async with make_client(url, retry=ONCE) as client:
            sender = client._sender
            assert isinstance(sender, WireSender)
            jobs = [await client.detail(5000601) for _ in range(2)]
            assert len(sender._idle) == 1  # one connection, kept alive
        assert [j.task_name for j in jobs] == ["wire", "wire"]
        monkeypatch.delenv("SSL_CERT_FILE")
        async with make_client(url, retry=ONCE) as client:  # certifi's bundle: untrusted
            with pytest.raises(NetworkError) as info:
                await client.detail(5000601)
        assert "certificate verification failed for 127.0.0.1" in info.value.message


async def test_an_unchanged_list_page_is_not_decoded_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same bytes for the same page: last time's data, no JSON decoding (an idle
    account's every page, every cycle); other bytes, or another page, are decoded."""
    from callwatch.api import client as client_mod
    from callwatch.api.client import TimeWindow
    from callwatch.api.models import RecordMemo

    decoded: list[int] = []

    class CountingJson:
        dumps = staticmethod(json.dumps)

        @staticmethod
        def loads(raw: bytes) -> object:
            decoded.append(len(raw))
            return json.loads(raw)

    monkeypatch.setattr(client_mod, "json", CountingJson)
    page = json.dumps({"code": 0, "data": {"records": [DATA], "total": 1}}).encode()
    moved = json.dumps({"code": 0, "data": {"records": [{**DATA, "success": 4}],
                                            "total": 1}}).encode()
    bodies = [page, page, moved, page, BODY, BODY]

    async def answer(n: int, w: asyncio.StreamWriter) -> None:
        w.write(ok(bodies[n]))

    memo: RecordMemo = {}
    async with server(answer) as (port, _), client_for(port) as client:
        window = TimeWindow.last(1)
        first = await client.query(window, None, 1, 100, memo=memo)
        again = await client.query(TimeWindow.last(2), None, 1, 100, memo=memo)
        assert again.records[0] is first.records[0] and len(decoded) == 1
        changed = await client.query(window, None, 1, 100, memo=memo)
        assert changed.records[0].success == 4 and len(decoded) == 2
        other = await client.query(window, None, 2, 100, memo=memo)
        assert other.records[0].success == 3 and len(decoded) == 3  # page 2: its own
        await client.detail(5000601)
        await client.detail(5000601)
        assert len(decoded) == 5  # details are always decoded
