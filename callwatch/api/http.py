"""One HTTP exchange, handed straight to the transport the client would use.

``httpx.AsyncClient.request`` builds each request through machinery callwatch does not
use (its cookie jar, auth and redirect flows, event hooks, a URL merge per call): about a
fifth of a request's CPU, paid ~100 times a cycle at 10,000 tasks and all the time an
idle monitor spends. The request on the wire is the same: the transport is the one the
client picks for its base URL (a proxy from the environment included), the headers are
the client's defaults plus the call's, the timeouts are the client's.
"""

from __future__ import annotations

import httpx

from callwatch.api.aionet import AsyncioBackend

_URL_CACHE = 4096  # paths differ by task id only on detail calls


class Sender:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client
        # Private httpx API (pinned <0.29 in pyproject): what the client itself calls.
        self._transport = client._transport_for_url(client.base_url)
        self._defaults = list(client.headers.raw)
        self._timeout = client.timeout.as_dict()
        self._urls: dict[str, httpx.URL] = {}

    def url(self, path: str) -> httpx.URL:
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) >= _URL_CACHE:
                self._urls.clear()
            url = self._urls[path] = self._client._merge_url(path)
        return url

    async def send(self, method: str, path: str, headers: dict[str, str],
                   content: bytes | None) -> httpx.Response:
        """The whole response, read (httpx's own exceptions on failure)."""
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
