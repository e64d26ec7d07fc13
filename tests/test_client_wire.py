"""The request on the wire, seen by a raw socket server: what callwatch's own HTTP sends,
and what goes through httpx when a proxy is set in the environment."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from callwatch.api.aionet import AsyncioBackend
from callwatch.api.client import ApiClient, Credentials
from callwatch.api.http import HttpxSender
from callwatch.api.pool import WireSender
from callwatch.api.signing import Secret
from tests.helpers.common import KEY, SECRET

BODY = json.dumps({"code": 0, "msg": "success", "data": {
    "jobId": 5000601, "taskName": "wire", "status": 1, "success": 3, "fail": 1}}).encode()


@asynccontextmanager
async def raw_server(seen: list[bytes], connections: list[int] | None = None
                     ) -> AsyncIterator[int]:
    """An HTTP/1.1 server that keeps each request's head and answers with BODY."""

    handlers: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            handlers.add(task)
        if connections is not None:
            connections.append(1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                seen.append(head)
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()
        # The client closed its connections: each handler reads the end and returns.
        await asyncio.wait_for(asyncio.gather(*handlers, return_exceptions=True), 10)


def headers_of(head: bytes) -> dict[str, str]:
    lines = head.decode().split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, v in
            (line.split(":", 1) for line in lines if ":" in line)}


async def test_the_request_carries_the_client_defaults_and_the_signature() -> None:
    seen: list[bytes] = []
    connections: list[int] = []
    async with raw_server(seen, connections) as port:
        async with ApiClient(Credentials(KEY, Secret(SECRET)),
                             base_url=f"http://127.0.0.1:{port}") as client:
            assert isinstance(client._sender, WireSender)  # not httpx: no proxy is set
            job = await client.detail(5000601)
            job_again = await client.detail(5000601)  # the same connection, kept alive
    assert job.task_name == "wire" and job_again.task_name == "wire"
    assert len(seen) == 2 and len(connections) == 1
    request_line = seen[0].split(b"\r\n", 1)[0].decode()
    assert request_line.startswith(f"GET {client.brand.voice_prefix}/group/call/detail/5000601")
    assert request_line.endswith(" HTTP/1.1")
    headers = headers_of(seen[0])
    assert headers["host"] == f"127.0.0.1:{port}"
    assert headers["user-agent"] == "callwatch"
    assert headers["accept-encoding"] == "gzip, deflate" and headers["accept"] == "*/*"
    assert headers["connection"] == "keep-alive"
    assert headers["api-key"] == KEY and headers["sign"] and headers["timestamp"].isdigit()
    assert headers["content-type"].startswith("application/json")
    assert SECRET not in seen[0].decode()


async def test_a_proxy_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """The transport is the one httpx would pick for the URL: here the proxy's."""
    seen: list[bytes] = []
    async with raw_server(seen) as port:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with ApiClient(Credentials(KEY, Secret(SECRET)),
                             base_url="http://api.callwatch.invalid") as client:
            job = await client.detail(5000601)
    assert job.job_id == 5000601
    request_line = seen[0].split(b"\r\n", 1)[0].decode()
    # The absolute form: the request went to the proxy, for the API's host.
    assert request_line.startswith("GET http://api.callwatch.invalid/")


async def test_no_proxy_goes_straight_to_the_api_through_httpx(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With a proxy in the environment httpx decides, NO_PROXY included; its own direct
    connections run on asyncio's streams (anyio's cost a quarter of a request)."""
    seen: list[bytes] = []
    async with raw_server(seen) as port:
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # never reached
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with ApiClient(Credentials(KEY, Secret(SECRET)),
                             base_url=f"http://127.0.0.1:{port}") as client:
            sender = client._sender
            assert isinstance(sender, HttpxSender)
            pool = sender._client._transport._pool  # type: ignore[attr-defined]
            assert isinstance(pool._network_backend, AsyncioBackend)
            job = await client.detail(5000601)
    assert job.job_id == 5000601
    assert seen[0].split(b"\r\n", 1)[0].decode().startswith("GET /")
