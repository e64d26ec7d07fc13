"""The simulator served in-process through httpx, without sockets (fast tests; ``--demo``
runs it in a child process instead: ``callwatch.sim.demo``)."""

from __future__ import annotations

import httpx

from callwatch.sim.app import SimState, build_app
from callwatch.sim.wire import DropConnection


class _InProcessTransport(httpx.ASGITransport):
    """ASGI transport whose app-level connection drops look like real ones."""

    def __init__(self, state: SimState) -> None:
        super().__init__(app=build_app(state), client=("127.0.0.1", 50000))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except DropConnection:
            raise httpx.RemoteProtocolError("server closed the connection") from None


def in_process_transport(state: SimState) -> httpx.AsyncBaseTransport:
    """An httpx transport that answers from ``state``'s simulator app."""
    return _InProcessTransport(state)
