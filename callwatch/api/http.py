"""Requests through httpx, where httpx must decide: a proxy from the environment, or a
transport handed in (the in-process simulator, tests). Its failures are told as
``wire``'s, so the client reads one kind of error whichever path carried the request.

``httpx.AsyncClient.request`` builds each request through machinery callwatch does not
use (its cookie jar, auth and redirect flows, event hooks, a URL merge per call): the
request goes straight to the transport the client picks for its base URL instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from callwatch.api.aionet import AsyncioBackend
from callwatch.api.wire import ConnectFailed, Dropped, Reply, WireError, WireTimeout

if TYPE_CHECKING:
    from callwatch.api.client import Timeouts

_URL_CACHE = 4096  # paths differ by task id only on detail calls
_PHASES = {"ConnectTimeout": "connect", "ReadTimeout": "read", "WriteTimeout": "write",
           "PoolTimeout": "pool"}


class HttpxSender:
    def __init__(self, base_url: str, timeouts: Timeouts, max_connections: int,
                 headers: dict[str, str], transport: httpx.AsyncBaseTransport | None
                 ) -> None:
        # Pool larger than the client's cap: callers queue on its semaphore, never on
        # the pool (a pool wait raises PoolTimeout, encode/httpx#1171).
        limits = httpx.Limits(max_connections=max_connections + 2,
                              max_keepalive_connections=max_connections)
        self._client = client = httpx.AsyncClient(
            base_url=base_url, transport=transport,
            timeout=httpx.Timeout(connect=timeouts.connect, read=timeouts.read,
                                  write=timeouts.write, pool=timeouts.pool),
            limits=limits, headers=headers, follow_redirects=False)
        if transport is None:
            use_asyncio_streams(client)
        # Private httpx API (pinned <0.29 in pyproject): what the client itself calls.
        self._transport = client._transport_for_url(client.base_url)
        self._defaults = list(client.headers.raw)
        self._timeout = client.timeout.as_dict()
        self._urls: dict[str, httpx.URL] = {}

    @property
    def is_closed(self) -> bool:
        return self._client.is_closed

    async def aclose(self) -> None:
        await self._client.aclose()

    def url(self, path: str) -> httpx.URL:
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) >= _URL_CACHE:
                self._urls.clear()
            url = self._urls[path] = self._client._merge_url(path)
        return url

    async def send(self, method: str, path: str, headers: dict[str, str],
                   content: bytes | None) -> Reply:
        """The whole response, read (``wire``'s errors on failure)."""
        try:
            response = await self._send(method, path, headers, content)
        except httpx.TimeoutException as exc:
            raise WireTimeout(_PHASES.get(type(exc).__name__, "request")) from exc
        except httpx.ConnectError as exc:
            raise ConnectFailed(str(exc)) from exc
        except httpx.RemoteProtocolError as exc:
            raise Dropped(str(exc)) from exc
        except httpx.HTTPError as exc:
            error = WireError(str(exc))
            error.kind = type(exc).__name__
            error.network = isinstance(exc, httpx.NetworkError)
            raise error from exc
        return Reply(response.status_code, response.reason_phrase,
                     {k.lower(): v for k, v in response.headers.items()}, response.content)

    async def _send(self, method: str, path: str, headers: dict[str, str],
                    content: bytes | None) -> httpx.Response:
        raw = [*self._defaults, *((k.encode(), v.encode()) for k, v in headers.items())]
        request = httpx.Request(method, self.url(path), headers=raw, content=content,
                                extensions={"timeout": self._timeout})
        response = await self._transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response


def use_asyncio_streams(client: httpx.AsyncClient) -> None:
    """The client's own default transport (its TLS context, SSL_CERT_FILE and all) opens
    its connections on asyncio's streams instead of anyio's (see ``aionet``). Proxy
    transports from the environment are left as httpx made them."""
    transport = client._transport  # private httpx and httpcore API, both pinned
    pool = getattr(transport, "_pool", None)
    if isinstance(transport, httpx.AsyncHTTPTransport) and hasattr(pool, "_network_backend"):
        pool._network_backend = AsyncioBackend()  # type: ignore[union-attr]
