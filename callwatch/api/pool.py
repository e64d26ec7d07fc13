"""Requests over a few keep-alive connections of callwatch's own (``wire``), or through
httpx where httpx must decide: a proxy from the environment, or a transport handed in
(the in-process simulator, tests).

The request on the wire is what httpx sent: the same request line, ``Host``, ``Accept``,
``Accept-Encoding: gzip, deflate``, ``Connection: keep-alive``, the client's default
headers, the call's headers and ``Content-Length``. TLS is verified against the same
certificates httpx would use (``SSL_CERT_FILE``, ``SSL_CERT_DIR``, else certifi's bundle),
with ALPN offering HTTP/1.1. Idle connections are closed after 5 s, as httpx closes
them; a write that does not complete shows as the read timeout.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from callwatch.api.wire import (
    ConnectFailed,
    Connection,
    Dropped,
    Malformed,
    Reply,
    WireError,
    WireTimeout,
)

if TYPE_CHECKING:
    from httpx import AsyncBaseTransport

    from callwatch.api.client import Timeouts

KEEPALIVE_EXPIRY = 5.0  # s: an idle connection older than this is closed, not reused
_PROXY_VARS = frozenset(("http_proxy", "https_proxy", "all_proxy"))


class Sender(Protocol):
    @property
    def is_closed(self) -> bool: ...

    async def send(self, method: str, path: str, headers: dict[str, str],
                   content: bytes | None) -> Reply: ...

    async def aclose(self) -> None: ...


def proxy_in_env() -> bool:
    """Whether httpx would look for a proxy here (then httpx carries the requests)."""
    if any(k.lower() in _PROXY_VARS and v for k, v in os.environ.items()):
        return True
    if sys.platform in ("darwin", "win32"):  # system proxy settings, as httpx reads them
        from urllib.request import getproxies
        return bool(getproxies())
    return False


def make_sender(base_url: str, timeouts: Timeouts, max_connections: int,
                headers: dict[str, str], transport: AsyncBaseTransport | None = None
                ) -> Sender:
    if transport is None and not proxy_in_env():
        return WireSender(base_url, timeouts, max_connections, headers)
    from callwatch.api.http import HttpxSender  # imports httpx: only on this path
    return HttpxSender(base_url, timeouts, max_connections, headers, transport)


def tls_context() -> ssl.SSLContext:
    """The context httpx builds by default (``httpx._config.create_ssl_context``)."""
    if os.environ.get("SSL_CERT_FILE"):
        ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    elif os.environ.get("SSL_CERT_DIR"):
        ctx = ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    else:
        import certifi
        ctx = ssl.create_default_context(cafile=certifi.where())
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class WireSender:
    """At most ``max_connections`` + 2 connections; the client's own semaphore keeps its
    callers below that, so a wait for a connection (the pool timeout) is a last resort."""

    def __init__(self, base_url: str, timeouts: Timeouts, max_connections: int,
                 headers: dict[str, str]) -> None:
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._tls = url.scheme == "https"
        default_port = 443 if self._tls else 80
        self._host = url.hostname
        self._port = url.port or default_port
        host = f"[{self._host}]" if ":" in self._host else self._host
        if self._port != default_port:
            host = f"{host}:{self._port}"
        self._prefix = url.path.rstrip("/")
        fixed = {"Host": host, "Accept": "*/*", "Accept-Encoding": "gzip, deflate",
                 "Connection": "keep-alive", **headers}
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed.items())
        self._timeouts = timeouts
        self._keep = max_connections  # kept alive; two more may open (as httpx's pool)
        self._slots = asyncio.Semaphore(max_connections + 2)
        self._idle: list[Connection] = []
        self._ssl: ssl.SSLContext | None = None
        self._closed = False

    @property
    def is_closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    async def send(self, method: str, path: str, headers: dict[str, str],
                   content: bytes | None) -> Reply:
        request = self._request(method, path, headers, content)
        if self._closed:
            raise WireError("the client was closed")
        slots = self._slots
        if slots.locked():
            try:
                async with asyncio.timeout(self._timeouts.pool):
                    await slots.acquire()
            except TimeoutError:
                raise WireTimeout("pool") from None
        else:
            await slots.acquire()
        try:
            conn = self._take_idle() or await self._connect()
            try:
                reply = await conn.exchange(request, self._timeouts.read)
            except BaseException:
                conn.abort()  # cancelled or failed mid-exchange: its state is unknown
                raise
            self._put_back(conn)
            return reply
        finally:
            slots.release()

    def _request(self, method: str, path: str, headers: dict[str, str],
                 content: bytes | None) -> bytes:
        head = f"{method} {self._prefix}{path} HTTP/1.1\r\n{self._fixed}"
        for name, value in headers.items():
            if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
                raise WireError(f"the request header {name[:40]!r} holds a line break")
            head += f"{name}: {value}\r\n"
        if content is not None:
            head += f"Content-Length: {len(content)}\r\n"
        try:
            data = (head + "\r\n").encode("ascii")
        except UnicodeEncodeError:
            raise WireError("a request header is not plain ASCII") from None
        return data + content if content else data

    def _take_idle(self) -> Connection | None:
        now = asyncio.get_running_loop().time()
        while self._idle:
            conn = self._idle.pop()
            if conn.alive and now - conn.idle_since < KEEPALIVE_EXPIRY:
                return conn
            conn.close()
        return None

    def _put_back(self, conn: Connection) -> None:
        if conn.alive and not self._closed and len(self._idle) < self._keep:
            conn.idle_since = asyncio.get_running_loop().time()
            self._idle.append(conn)
        else:
            conn.close()

    async def _connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        if self._tls and self._ssl is None:
            self._ssl = tls_context()
        try:
            async with asyncio.timeout(self._timeouts.connect):
                _, conn = await loop.create_connection(
                    lambda: Connection(loop), self._host, self._port, ssl=self._ssl,
                    server_hostname=self._host if self._tls else None)
        except TimeoutError:
            raise WireTimeout("connect") from None
        except OSError as exc:  # refused, unreachable, no such host, TLS (ssl.SSLError)
            raise ConnectFailed(f"{type(exc).__name__}: {exc}") from exc
        return conn


def tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind a failed request, if any (it is chained, not wrapped)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def network_message(exc: Exception, base_url: str) -> str:
    tls = tls_failure(exc)
    if isinstance(tls, ssl.SSLCertVerificationError):
        host = urlsplit(base_url).hostname or base_url
        return (f"certificate verification failed for {host}: "
                f"{tls.verify_message or tls.reason}; for a private CA, point SSL_CERT_FILE "
                "at its certificate bundle")
    if tls is not None:
        return f"TLS handshake with {base_url} failed: {tls.reason or type(tls).__name__}"
    if isinstance(exc, ConnectFailed):
        return f"cannot connect to {base_url} (refused or unreachable)"
    if isinstance(exc, Malformed):
        return f"{base_url} answered with a broken HTTP response ({exc})"
    if isinstance(exc, Dropped):
        return f"connection to {base_url} dropped mid-response"
    kind = exc.kind if isinstance(exc, WireError) else type(exc).__name__
    return f"network error talking to {base_url} ({kind})"
