"""The simulator's unsigned ``/_sim/`` control endpoints (tests, soak, benchmarks).

``GET /_sim/NAME`` shows a setting, ``POST /_sim/NAME`` with a JSON object changes it.
Every input is typed, finite and bounded; a bad one answers 400 with a one-line JSON
reason and changes nothing, so nothing posted here can break the signed API.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from callwatch.sim.faults import LIST_FILLS, PROFILES, TASK_FAULTS, ListLie, TaskFault
from callwatch.sim.model import SimJob
from callwatch.sim.wallet import BALANCE_CODES

if TYPE_CHECKING:
    from callwatch.sim.app import SimState

YEAR = 365.25 * 86400
MAX_SPAN = 10 * YEAR  # one advance or a skew
MAX_CLOCK_OFFSET = 50 * YEAR  # all advances together: dates stay printable
MAX_INT = 10**18 - 1  # ids and counts: at most 18 digits
MAX_SPEED = 1000.0
MAX_DIAL_RATE = 1e6
MAX_PAGES = 10**15
MAX_TEXT = 1_000_000  # characters of a task's name or text (hostile-name tests use 100,000)
MAX_BODY = 4 * 1024 * 1024
MAX_TASK_FAULTS = 100_000
MAX_MONEY = 1e12

Body = dict[str, Any]


class ControlError(Exception):
    """Bad control input: answered 400 with this reason."""


def number(body: Body, key: str, lo: float, hi: float, default: float | None = None) -> float:
    value = body.get(key, default)
    # bool is an int to Python, not to a caller; huge ints would overflow float().
    if type(value) is float:
        result = value
    elif type(value) is int and abs(value) <= MAX_INT:
        result = float(value)
    else:
        result = math.nan
    if not math.isfinite(result) or not lo <= result <= hi:
        raise ControlError(f"{key} must be a finite number from {lo:g} to {hi:g}")
    return result


def integer(body: Body, key: str, lo: int, hi: int, default: int | None = None) -> int:
    value = body.get(key, default)
    if type(value) is not int or not lo <= value <= hi:
        raise ControlError(f"{key} must be an integer from {lo} to {hi}")
    return value


def choice(body: Body, key: str, options: tuple[str, ...], default: str | None = None) -> str:
    value = body.get(key, default)
    if not isinstance(value, str) or value not in options:
        raise ControlError(f"{key} must be one of {', '.join(options)}")
    return value


def text(body: Body, key: str, default: str | None) -> str | None:
    value = body.get(key, default)
    if value is None and default is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ControlError(f"{key} must be a string of at most {MAX_TEXT} characters")
    return value


def only(body: Body, *keys: str) -> None:
    """A typo must not silently become a default."""
    unknown = sorted(set(body) - set(keys))
    if unknown:
        raise ControlError(f"unknown field {unknown[0][:40]!r}; expected {', '.join(keys)}")


def _no_constants(name: str) -> Any:
    raise ControlError(f"{name} is not a number")


async def read_body(request: Request) -> Body:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ControlError(f"body larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise ControlError("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


# -- the endpoints: each reads a body (None for GET) and returns the setting -------------

def _stats(state: SimState, body: Body | None) -> Body:
    if body is not None:
        state.stats.clear()
    return dict(state.stats)


def _faults(state: SimState, body: Body | None) -> Body:
    if body is not None:
        only(body, "profile")
        state.faults.set_profile(choice(body, "profile", PROFILES, "none"))
    return {"profile": state.faults.profile}


def _skew(state: SimState, body: Body | None) -> Body:
    if body is not None:
        only(body, "seconds")
        state.skew = number(body, "seconds", -MAX_SPAN, MAX_SPAN, 0)
    return {"seconds": state.skew}


def _advance(state: SimState, body: Body | None) -> Body:
    if body is not None:
        only(body, "seconds")
        seconds = number(body, "seconds", 0, MAX_SPAN, 0)
        if state.clock.offset + seconds > MAX_CLOCK_OFFSET:
            raise ControlError(f"the clock cannot be advanced more than {MAX_CLOCK_OFFSET:g} "
                               "seconds in all")
        state.clock.advance(seconds)
        state.invalidate()
    return {"now": state.clock.now(), "offset": state.clock.offset}


def _speed(state: SimState, body: Body | None) -> Body:
    if body is not None:
        only(body, "speed")
        state.clock.set_speed(number(body, "speed", 0, MAX_SPEED))
        state.invalidate()
    return {"speed": state.clock.speed}


def _jobs(state: SimState, body: Body | None) -> Body:
    if body is None:
        return {"count": len(state.jobs), "nextId": state.new_id()}
    only(body, "jobId", "taskName", "text", "numCnt", "startIn", "dialRate", "answerRatio",
         "talkSeconds")
    # The default is not the caller's input: it may pass MAX_INT after a huge jobId.
    job_id = integer(body, "jobId", 1, MAX_INT) if "jobId" in body else state.new_id()
    name = text(body, "taskName", f"sim-{job_id}")
    num_cnt = integer(body, "numCnt", 0, MAX_INT, 100)
    start_in = number(body, "startIn", -MAX_SPAN, MAX_SPAN, 0)
    dial_rate = number(body, "dialRate", 1e-6, MAX_DIAL_RATE, 1.0)
    answer_ratio = number(body, "answerRatio", 0, 1, 0.5)
    talk = integer(body, "talkSeconds", 0, 3600, 20)
    job_text = text(body, "text", None)
    assert name is not None
    now = state.clock.now()
    job = state.add(SimJob(job_id=job_id, name=name, created=now - 60, num_cnt=num_cnt,
                           start=now + start_in, dial_rate=dial_rate,
                           answer_ratio=answer_ratio, talk_seconds=talk, text=job_text))
    return {"jobId": job.job_id}


def _task_fault(state: SimState, body: Body | None) -> Body:
    if body is not None:
        only(body, "jobId", "fault")
        fault = TaskFault(choice(body, "fault", TASK_FAULTS))
        if fault is TaskFault.NONE and "jobId" not in body:
            state.task_faults.clear()  # no id: clear every task's fault
        else:
            set_task_fault(state, integer(body, "jobId", 1, MAX_INT), fault)
    return {"faults": {str(k): v.value for k, v in sorted(state.task_faults.items())}}


def _list_lie(state: SimState, body: Body | None) -> Body:
    if body is not None:
        only(body, "pages", "recordsPerPage", "fill")
        default = ListLie()
        pages = integer(body, "pages", 0, MAX_PAGES, default.pages)
        per_page = integer(body, "recordsPerPage", 0, 100, default.records_per_page)
        fill = choice(body, "fill", LIST_FILLS, default.fill)
        state.list_lie = ListLie(pages, per_page, fill) if pages else None
    lie = state.list_lie
    if lie is None:
        return {"pages": 0}
    return {"pages": lie.pages, "recordsPerPage": lie.records_per_page, "fill": lie.fill}


def _balance(state: SimState, body: Body | None) -> Body:
    """``set``: the balance (from then on it can run out); ``add``: a top-up; ``gift``,
    ``credit``: reported as they are; ``code``: what the balance call answers (0: ok)."""
    wallet, jobs, now = state.wallet, list(state.jobs.values()), state.clock.now()
    if body is not None:
        only(body, "set", "add", "gift", "credit", "code")
        # Everything checked before anything changes.
        value = number(body, "set", 0, MAX_MONEY) if "set" in body else None
        add = number(body, "add", 0, MAX_MONEY) if "add" in body else None
        gift = number(body, "gift", 0, MAX_MONEY, wallet.gift)
        credit = number(body, "credit", 0, MAX_MONEY, wallet.credit)
        code = integer(body, "code", -18, 0, wallet.code)
        if code not in BALANCE_CODES:
            raise ControlError(f"code must be one of {', '.join(map(str, BALANCE_CODES))}")
        if value is not None:
            wallet.set_balance(jobs, now, value)
        if add is not None:
            wallet.top_up(jobs, now, add)
        wallet.gift, wallet.credit, wallet.code = gift, credit, code
        state.invalidate()
    return {"balance": wallet.balance(jobs, now), "gift": wallet.gift, "credit": wallet.credit,
            "limited": wallet.limited, "code": wallet.code,
            "stalled": wallet.calling(jobs, now)}


def set_task_fault(state: SimState, job_id: int, fault: TaskFault) -> None:
    """Script (or, with NONE, clear) one task's fault."""
    if fault is TaskFault.NONE:
        state.task_faults.pop(job_id, None)
        return
    if job_id not in state.task_faults and len(state.task_faults) >= MAX_TASK_FAULTS:
        raise ControlError(f"at most {MAX_TASK_FAULTS} tasks can have a fault")
    state.task_faults[job_id] = fault


ENDPOINTS: dict[str, Callable[[SimState, Body | None], Body]] = {
    "stats": _stats, "faults": _faults, "skew": _skew, "advance": _advance, "speed": _speed,
    "jobs": _jobs, "task_fault": _task_fault, "list_lie": _list_lie, "balance": _balance,
}


def control_endpoint(state: SimState) -> Callable[[Request], Any]:
    async def control(request: Request) -> Response:
        handler = ENDPOINTS.get(request.path_params["what"])
        if handler is None:
            return JSONResponse({"error": "unknown control"}, status_code=404)
        try:
            body = await read_body(request) if request.method == "POST" else None
            return JSONResponse(handler(state, body))
        except ControlError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    return control
