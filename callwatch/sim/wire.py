"""The simulator's wire layer: envelopes, raw answers and the fault layer in front of the
API routes (random fault profiles and per-task scripted faults)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callwatch.sim.faults import HANG_SECONDS, Fault, TaskFault

if TYPE_CHECKING:
    from callwatch.sim.app import SimState


class DropConnection(Exception):
    """Raised mid-response to make the server close the connection."""


MESSAGES = {
    -1: "Authentication error", -2: "Restricted IP", -13: "User locked", -15: "Query too frequent",
    -16: "Timestamp expires", -18: "Port program unusual", -20: "Data already exists",
    -22: "Parameter exception", -24: "Data does not exist", -54: "The task you submitted is wrong",
}


def envelope(code: int, msg: str, data: object = None, *, as_string: bool = False,
             style: str = "code") -> dict[str, Any]:
    value: object = str(code) if as_string else code
    if style == "flat":  # the balance call: its fields beside status and reason
        return {"status": str(code), "reason": msg, **(data if isinstance(data, dict) else {})}
    if style == "status":
        return {"status": str(code), "reason": msg, "data": data}
    return {"code": value, "msg": msg, "data": data}


async def raw(send: Send, status: int, body: bytes, ctype: bytes, date: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype),
                            (b"content-length", str(len(body)).encode()), (b"date", date)]})
    await send({"type": "http.response.body", "body": body})


def detail_id(path: str, detail_prefix: str) -> int | None:
    """The task id of a detail request's path, or None for any other path."""
    if not path.startswith(detail_prefix):
        return None
    rest = path[len(detail_prefix):]
    # ASCII digits only: int() would also take other scripts' digits and underscores.
    if not rest or len(rest) > 19 or not (rest.isascii() and rest.isdigit()):
        return None
    return int(rest)


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _hang(state: SimState, receive: Receive, send: Send, date: bytes) -> None:
    """Never answer, yet hold no resources for ever: end when the client gives up,
    after HANG_SECONDS, or at shutdown (then with a 503, so uvicorn stops at once)."""
    release = asyncio.Event()
    state.hangs.add(release)
    waits = [asyncio.ensure_future(_until_disconnect(receive)),
             asyncio.ensure_future(release.wait())]
    try:
        await asyncio.wait(waits, timeout=HANG_SECONDS, return_when=asyncio.FIRST_COMPLETED)
    finally:
        state.hangs.discard(release)
        for task in waits:
            task.cancel()
    if release.is_set():
        await raw(send, 503, b"<html><body>shutting down</body></html>", b"text/html", date)


async def _captured(inner: ASGIApp, scope: Scope, receive: Receive) -> bytes:
    """The body the API would have sent (a proxy that truncates passes part of it on)."""
    parts: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await inner(scope, receive, capture)
    return b"".join(parts)


async def serve_task_fault(fault: TaskFault, state: SimState, inner: ASGIApp, scope: Scope,
                           receive: Receive, send: Send, date: bytes) -> bool:
    """Answer a detail request the scripted way; False: let the API answer (NOT_FOUND is
    the API's own -24, after authentication, so the route handles it)."""
    if fault is TaskFault.HANG:
        await _hang(state, receive, send, date)
    elif fault is TaskFault.HTTP_502:
        await raw(send, 502, b"<html><head><title>502 Bad Gateway</title></head><body>"
                  b"<center><h1>502 Bad Gateway</h1></center></body></html>",
                  b"text/html", date)
    elif fault is TaskFault.TRUNCATED:
        body = await _captured(inner, scope, receive)
        await raw(send, 200, body[: max(1, len(body) // 2)], b"application/json", date)
    elif fault is TaskFault.WRONG_SHAPE:
        await raw(send, 200, b"[1, 2]", b"application/json", date)
    else:
        return False
    return True


async def serve_profile_fault(fault: Fault, delay: float, send: Send, date: bytes) -> bool:
    """Answer the request with a random-profile fault; False: answer normally (after
    ``delay`` for a slow one)."""
    if fault is Fault.SLOW:
        await asyncio.sleep(delay)
    elif fault is Fault.HTTP_503:
        body = b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
        await raw(send, 503, body, b"text/html", date)
        return True
    elif fault is Fault.DROP:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"4096"), (b"date", date)]})
        await send({"type": "http.response.body", "body": b'{"code":0,"da',
                    "more_body": True})
        raise DropConnection("simulated dropped connection")
    elif fault is Fault.MALFORMED:
        await raw(send, 200, b"<html>gateway says hello</html>", b"application/json", date)
        return True
    elif fault is Fault.TRUNCATED:
        await raw(send, 200, b'{"code":0,"msg":"success","data":{"records":[{"jobId":50',
                  b"application/json", date)
        return True
    elif fault in (Fault.RATE_LIMIT, Fault.INTERNAL):
        code = -15 if fault is Fault.RATE_LIMIT else -18
        body = json.dumps(envelope(code, MESSAGES[code])).encode()
        await raw(send, 200, body, b"application/json", date)
        return True
    return False


def fault_layer(state: SimState, inner: ASGIApp, detail_prefix: str
                ) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """Wrap the API routes: per-task faults first, then the random profile."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim/"):
            await inner(scope, receive, send)
            return
        date = formatdate(state.server_time(), usegmt=True).encode()
        job_id = detail_id(scope["path"], detail_prefix)
        task_fault = state.task_faults.get(job_id) if job_id is not None else None
        if task_fault is not None:
            # A scripted task fault is certain: the random profile does not mask it.
            state.stats[f"task_fault_{task_fault.value}"] += 1
            if await serve_task_fault(task_fault, state, inner, scope, receive, send, date):
                return
            await inner(scope, receive, send)
            return
        decision = state.faults.decide()
        state.skew = decision.skew if state.faults.profile == "chaos" else state.skew
        if decision.fault is not Fault.NONE:
            state.stats[f"fault_{decision.fault.value}"] += 1
        date = formatdate(state.server_time(), usegmt=True).encode()
        if await serve_profile_fault(decision.fault, decision.delay, send, date):
            return
        await inner(scope, receive, send)

    return app
