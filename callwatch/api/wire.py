"""HTTP/1.1 responses read by an asyncio protocol: one connection, one exchange at a time.

httpx and httpcore spend about half a millisecond of CPU on each request (their pool,
h11's event machinery, anyio's or asyncio's streams); at 10,000 tasks that is a hundred
requests every cycle, and most of what an idle monitor spends. callwatch asks one API for
JSON over plain HTTP/1.1, so this reads a response straight from the socket's data:
a status line, headers, and a body framed by ``Content-Length``, by chunks, or by the
end of the connection, decoded from gzip or deflate. Anything else (a malformed or
oversized head, a bad chunk, a body past ``MAX_BODY``) fails the exchange with a
:class:`WireError` and closes the connection: a hostile server costs one request.
"""

from __future__ import annotations

import asyncio
import zlib

MAX_HEAD = 64 * 1024  # status line and headers
RECV_BUFFER = 64 * 1024  # bytes read from the socket at a time
MAX_BODY = 32 * 1024 * 1024  # after decompression too: a list page is ~20 KB
_NO_BODY = frozenset((204, 304))
_HEX = b"0123456789abcdefABCDEF"


class WireError(Exception):
    """A request that got no usable HTTP response. ``kind`` names it for messages;
    ``network``: the network or the server failed (not callwatch's own request)."""

    kind = "HTTPError"
    network = False


class _NetworkFailure(WireError):
    network = True


class ConnectFailed(_NetworkFailure):
    kind = "ConnectError"


class Dropped(_NetworkFailure):
    """The server closed the connection before the response was whole."""

    kind = "RemoteProtocolError"


class Malformed(_NetworkFailure):
    """The server's bytes are not an HTTP response callwatch can read."""

    kind = "RemoteProtocolError"


class ReadFailed(_NetworkFailure):
    kind = "ReadError"


class WireTimeout(_NetworkFailure):
    def __init__(self, phase: str) -> None:
        super().__init__(f"{phase} timeout")
        self.phase = phase
        self.kind = f"{phase.capitalize()}Timeout"


class Reply:
    """A whole response: what the client reads of it (names as httpx's Response)."""

    __slots__ = ("content", "headers", "reason_phrase", "status_code")

    def __init__(self, status: int, reason: str, headers: dict[str, str],
                 content: bytes) -> None:
        self.status_code = status
        self.reason_phrase = reason
        self.headers = headers  # lower-case names; repeated headers joined by ", "
        self.content = content


def parse_head(head: str) -> tuple[int, str, dict[str, str]]:
    """Status, reason and headers of a response head (no blank line at its end)."""
    lines = head.split("\n")
    version, _, rest = lines[0].rstrip("\r").partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise Malformed(f"malformed status line {lines[0][:40]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.rstrip("\r").partition(":")
        if not sep or not name or name[-1] in " \t" or name[0] in " \t":
            raise Malformed(f"malformed header line {line[:40]!r}")
        name, value = name.lower(), value.strip(" \t")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    if version == "HTTP/1.0" and "connection" not in headers:
        headers["connection"] = "close"  # 1.0 keeps nothing alive unless it says so
    return int(code), reason.strip(), headers


def body_length(headers: dict[str, str]) -> int | None:
    """The body's length, None for chunks, -1 for "until the connection ends"."""
    coding = headers.get("transfer-encoding")
    if coding is not None:
        if coding.rsplit(",", 1)[-1].strip().lower() != "chunked":
            raise Malformed(f"unsupported transfer-encoding {coding[:40]!r}")
        return None
    raw = headers.get("content-length")
    if raw is None:
        return -1
    values = {v.strip() for v in raw.split(",")}
    if len(values) != 1 or not (value := values.pop()).isdigit():
        raise Malformed(f"bad content-length {raw[:40]!r}")
    length = int(value)
    if length > MAX_BODY:
        raise Malformed(f"response body of {length:,} bytes is over the {MAX_BODY:,} limit")
    return length


def decode_body(body: bytes, headers: dict[str, str]) -> bytes:
    """Undo gzip or deflate (the ones callwatch asks for), with the size limit."""
    coding = headers.get("content-encoding", "").strip().lower()
    if not body or coding in ("", "identity"):
        return body
    if coding in ("gzip", "x-gzip"):
        wbits = zlib.MAX_WBITS | 16
    elif coding == "deflate":
        wbits = zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS  # zlib or raw
    else:
        return body  # not one callwatch asked for: left as is, as httpx leaves it
    try:
        inflater = zlib.decompressobj(wbits)
        out = inflater.decompress(body, MAX_BODY + 1)
    except zlib.error as exc:
        raise Malformed(f"the {coding} body could not be decoded ({exc})") from exc
    if len(out) > MAX_BODY or inflater.unconsumed_tail:
        raise Malformed(f"the {coding} body inflates past the {MAX_BODY:,}-byte limit")
    return out


class Connection(asyncio.BufferedProtocol):
    """One keep-alive connection: ``exchange`` writes a request and resolves with its
    :class:`Reply`. The response is parsed as its bytes arrive.

    The socket is read into one fixed buffer per connection (``get_buffer``), not into
    a fresh 256 KiB bytes object per read as a plain protocol is: no allocation per
    read, and none of the heap fragmentation that made a long soak's RSS creep."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._rx = memoryview(bytearray(RECV_BUFFER))
        self._buf = bytearray()
        self._reply: asyncio.Future[Reply] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._read_timeout: float | None = None
        self._last = 0.0  # loop time of the last bytes (the read timeout runs from it)
        self._head: tuple[int, str, dict[str, str]] | None = None
        self._length: int | None = 0  # see body_length
        self._chunks: bytearray | None = None  # chunked: the body decoded so far
        self.alive = False  # connected, and nothing seen that forbids reuse
        self.idle_since = 0.0

    # -- asyncio's callbacks ------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self.alive = True

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._rx

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self._rx[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        if self._reply is None or self._reply.done():
            self.close()  # bytes nobody asked for: this connection is not safe to reuse
            return
        self._last = self._loop.time()
        self._buf += data
        try:
            self._advance()
        except WireError as exc:
            self._fail(exc)

    def eof_received(self) -> bool:
        return False  # the transport closes; connection_lost says the rest

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        reply = self._reply
        if reply is None or reply.done():
            return
        if exc is None and self._head is not None and self._length == -1:
            self._finish(bytes(self._buf))  # framed by the connection's end
            return
        error: WireError = Dropped(
            "the server closed the connection before the response was whole")
        if exc is not None:
            error = ReadFailed(f"{type(exc).__name__}: {exc}")
            error.__cause__ = exc
        reply.set_exception(error)

    # -- one exchange ---------------------------------------------------------------
    def exchange(self, request: bytes, read_timeout: float | None) -> asyncio.Future[Reply]:
        self._reply = reply = self._loop.create_future()
        self._head, self._length, self._chunks = None, 0, None
        self._buf.clear()
        self._last = self._loop.time()
        self._read_timeout = read_timeout
        if read_timeout is not None:
            self._timer = self._loop.call_at(self._last + read_timeout, self._check_timeout)
        assert self._transport is not None
        self._transport.write(request)
        return reply

    def _check_timeout(self) -> None:
        reply, limit = self._reply, self._read_timeout
        if reply is None or reply.done() or limit is None:
            return
        due = self._last + limit
        if self._loop.time() >= due:
            self._fail(WireTimeout("read"))
        else:
            self._timer = self._loop.call_at(due, self._check_timeout)

    def _advance(self) -> None:
        if self._head is None and not self._read_head():
            return
        length = self._length
        if length is None:
            self._read_chunks()
        elif length >= 0 and len(self._buf) >= length:
            if len(self._buf) > length:
                self.alive = False  # more than the response: never reuse this one
            with memoryview(self._buf) as whole:  # released before the buffer is reused
                body = bytes(whole[:length])
            self._finish(body)
        elif length < 0 and len(self._buf) > MAX_BODY:
            raise Malformed(f"response body is over the {MAX_BODY:,}-byte limit")

    def _read_head(self) -> bool:
        buf = self._buf
        while True:
            end, sep = buf.find(b"\r\n\r\n"), 4
            if end < 0:
                end, sep = buf.find(b"\n\n"), 2
            if end < 0:
                if len(buf) > MAX_HEAD:
                    raise Malformed(f"response head is over the {MAX_HEAD:,}-byte limit")
                return False
            status, reason, headers = parse_head(buf[:end].decode("latin-1"))
            del buf[:end + sep]
            if 100 <= status < 200 and status != 101:
                continue  # "100 Continue" and the like: the real answer follows
            self._head = (status, reason, headers)
            self._length = 0 if status in _NO_BODY else body_length(headers)
            if self._length is None:
                self._chunks = bytearray()
            return True

    def _read_chunks(self) -> None:
        buf, body = self._buf, self._chunks
        assert body is not None
        while True:
            line_end = buf.find(b"\n")
            if line_end < 0:
                if len(buf) > 1024:
                    raise Malformed("chunk size line too long")
                return
            size_text = bytes(buf[:line_end].split(b";", 1)[0].strip())
            if not size_text or len(size_text) > 16 or size_text.strip(_HEX):
                raise Malformed(f"bad chunk size {size_text[:20]!r}")
            size = int(size_text, 16)
            if len(body) + size > MAX_BODY:
                raise Malformed(f"chunked body is over the {MAX_BODY:,}-byte limit")
            start = line_end + 1
            if size == 0:
                if buf[start:start + 2] == b"\r\n":
                    end = start + 2  # no trailers
                else:
                    found = buf.find(b"\r\n\r\n", start)
                    if found < 0:
                        if len(buf) - start > MAX_HEAD:
                            raise Malformed("chunked trailers are over the head limit")
                        return  # the trailers have not all arrived
                    end = found + 4
                if len(buf) > end:
                    self.alive = False
                self._finish(bytes(body))
                return
            if len(buf) < start + size + 2:
                return  # the rest of this chunk is on its way
            body += buf[start:start + size]
            if buf[start + size:start + size + 2] != b"\r\n":
                raise Malformed("chunk not followed by CRLF")
            del buf[:start + size + 2]

    def _finish(self, body: bytes) -> None:
        assert self._head is not None and self._reply is not None
        status, reason, headers = self._head
        self._cancel_timer()
        if "close" in headers.get("connection", "").lower() or self._length == -1:
            self.alive = False
        try:
            content = decode_body(body, headers)
        except WireError as exc:
            self._fail(exc)
            return
        self._reply.set_result(Reply(status, reason, headers, content))
        if not self.alive:
            self.close()

    def _fail(self, error: WireError) -> None:
        self._cancel_timer()
        if self._reply is not None and not self._reply.done():
            self._reply.set_exception(error)
        self.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def close(self) -> None:
        self.alive = False
        self._cancel_timer()
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        self.alive = False
        self._cancel_timer()
        if self._transport is not None:
            self._transport.abort()
