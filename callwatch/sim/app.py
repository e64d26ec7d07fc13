"""The simulator's HTTP API (Starlette), faithful to the vendor's wire format."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from callwatch.api.brands import Brand
from callwatch.api.convert import API_TZ, LOCAL_DT_FORMAT
from callwatch.sim.control import control_endpoint
from callwatch.sim.faults import FaultPlan, ListLie, TaskFault
from callwatch.sim.model import (
    CALLING,
    CANCELLED,
    SUBMITTING,
    SUSPENDED,
    WAITING,
    SimClock,
    SimJob,
    demo_jobs,
    search_match,
)
from callwatch.sim.wallet import Wallet
from callwatch.sim.wire import MESSAGES, envelope, fault_layer


@dataclass
class SimConfig:
    brand: Brand = Brand.ITNIO
    keys: dict[str, str] = field(default_factory=lambda: {"demo-key": "demo-secret"})
    timestamp_window: float = 300.0
    allowed_ips: dict[str, set[str]] = field(default_factory=dict)  # key -> allowed IPs
    rate_limit: float | None = None  # requests per second per key; None = unlimited
    rate_burst: int = 20
    faults: str = "none"
    seed: int = 0
    control: bool = True  # the unsigned /_sim/ endpoints (tests, soak)
    balance: float | None = None  # the account's money; None: plenty (never runs out)


class SimState:
    """Everything the simulator knows. Tests drive it directly (clock, faults, jobs)."""

    def __init__(self, config: SimConfig, clock: SimClock | None = None,
                 wall: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock or SimClock(time.time)
        self.wall = wall  # real time: signatures and the Date header
        self.skew = 0.0  # extra server-clock offset (seconds)
        self.jobs: dict[int, SimJob] = {}
        self.faults = FaultPlan(config.faults, config.seed)
        self.stats: Counter[str] = Counter()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._next_id = 5000600
        self._list_cache: tuple[object, list[SimJob]] | None = None
        self.task_faults: dict[int, TaskFault] = {}  # scripted per-task detail faults
        self.list_lie: ListLie | None = None  # the list endpoint's hostile size claims
        self.hangs: set[asyncio.Event] = set()  # requests held by a HANG task fault
        self.wallet = Wallet(config.balance, self.clock.now())

    def settle(self) -> None:
        """Charge the calls made so far (a limited balance stops tasks when it runs out)."""
        if self.wallet.limited:
            self.wallet.settle(list(self.jobs.values()), self.clock.now())

    def release_hangs(self) -> None:
        """Let every hung request end (at server shutdown, from the server's loop)."""
        for event in self.hangs:
            event.set()

    def invalidate(self) -> None:
        """Forget cached list results (the clock or the jobs changed)."""
        self._list_cache = None

    # -- jobs ------------------------------------------------------------------------
    def populate(self, count: int, seed: int | None = None) -> None:
        rng = random.Random(self.config.seed if seed is None else seed)
        for job in demo_jobs(self.clock.now(), count, rng, self._next_id):
            self.add(job)

    def add(self, job: SimJob) -> SimJob:
        self.jobs[job.job_id] = job
        self._next_id = max(self._next_id, job.job_id + 1)
        self._list_cache = None
        return job

    def new_id(self) -> int:
        return self._next_id

    def ground_truth(self, job_id: int) -> dict[str, Any]:
        self.settle()
        return self.jobs[job_id].detail_record(self.clock.now(), "jobId")

    def server_time(self) -> float:
        return self.wall() + self.skew

    def filtered(self, start: float, end: float, states: frozenset[int],
                 search: str | None) -> list[SimJob]:
        """Jobs in the window, newest first; cached per half second of sim time so that
        paging through 10,000 tasks does not recompute every state per page."""
        now = self.clock.now()
        key = (int(now * 2), start, end, states, search, len(self.jobs))
        if self._list_cache is not None and self._list_cache[0] == key:
            return self._list_cache[1]
        out = [j for j in self.jobs.values()
               if start <= j.created <= end
               and (not states or j.status_at(now) in states)
               and (not search or search_match(j, search))]
        out.sort(key=lambda j: (j.created, j.job_id), reverse=True)
        self._list_cache = (key, out)
        return out


def _parse_local(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, LOCAL_DT_FORMAT).replace(tzinfo=API_TZ).timestamp()
    except ValueError:
        return None


# The states cancel and provisional act on.
STOPPABLE = frozenset({WAITING, CALLING, SUBMITTING})


class _Reject(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


Handler = Callable[[Request], Awaitable[object]]


class _Routes:
    """The vendor's endpoints over one :class:`SimState`: each handler returns ``data``
    or raises :class:`_Reject`; :meth:`endpoint` wraps it in the envelope."""

    def __init__(self, state: SimState) -> None:
        self.state = state
        self.cfg = state.config
        self.id_key = state.config.brand.id_key

    def json_response(self, body: dict[str, Any]) -> Response:
        return JSONResponse(body, headers={"Date": formatdate(self.state.server_time(),
                                                              usegmt=True)})

    def check_auth(self, request: Request) -> None:
        state, cfg = self.state, self.cfg
        h = request.headers
        key, ts, sig = h.get("api-key"), h.get("timestamp"), h.get("sign")
        if not key or not ts or not sig:
            raise _Reject(-1)
        secret = cfg.keys.get(key)
        if secret is None:
            raise _Reject(-1)
        try:
            ts_val = int(ts)
        except ValueError:
            raise _Reject(-16) from None
        expected = hashlib.md5(f"{key}{secret}{ts}".encode(), usedforsecurity=False).hexdigest()
        if not hmac.compare_digest(expected, sig.strip().lower()):
            raise _Reject(-1)
        if abs(state.server_time() - ts_val) > cfg.timestamp_window:
            raise _Reject(-16)
        allowed = cfg.allowed_ips.get(key)
        client = request.client.host if request.client else ""
        if allowed is not None and client not in allowed:
            raise _Reject(-2)
        if cfg.rate_limit is not None:
            now = state.wall()
            tokens, last = state._buckets.get(key, (float(cfg.rate_burst), now))
            tokens = min(float(cfg.rate_burst), tokens + (now - last) * cfg.rate_limit)
            if tokens < 1.0:
                state._buckets[key] = (tokens, now)
                raise _Reject(-15)
            state._buckets[key] = (tokens - 1.0, now)

    def endpoint(self, handler: Handler, style: str = "code", as_string: bool = False
                 ) -> Callable[[Request], Awaitable[Response]]:
        state = self.state

        async def endpoint(request: Request) -> Response:
            state.stats["requests"] += 1
            try:
                self.check_auth(request)
                state.settle()
                data = await handler(request)
            except _Reject as r:
                state.stats[f"code{r.code}"] += 1
                return self.json_response(envelope(r.code, MESSAGES.get(r.code, "error"),
                                                   as_string=as_string, style=style))
            state.stats["code0"] += 1
            return self.json_response(envelope(0, "success", data, as_string=as_string,
                                               style=style))
        return endpoint

    @staticmethod
    async def body_of(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise _Reject(-22) from None
        if not isinstance(body, dict):
            raise _Reject(-22)
        return body

    async def query(self, request: Request) -> object:
        state = self.state
        state.stats["query"] += 1
        body = await self.body_of(request)
        current, size, params = body.get("current"), body.get("size"), body.get("params")
        if type(current) is not int or current < 1 or type(size) is not int \
                or not 1 <= size <= 100 or not isinstance(params, dict):
            raise _Reject(-22)
        start, end = _parse_local(params.get("strTime")), _parse_local(params.get("endTime"))
        if start is None or end is None or end < start:
            raise _Reject(-22)
        status_list = params.get("statusList") or []
        if not isinstance(status_list, list) or any(
                type(s) is not int or not 0 <= s <= 6 for s in status_list):
            raise _Reject(-22)
        search = params.get("searchCondition")
        if search is not None and not isinstance(search, str):
            raise _Reject(-22)
        jobs = state.filtered(start, end, frozenset(status_list), search or None)
        now = state.clock.now()
        page = jobs[(current - 1) * size: current * size]
        total, pages = len(jobs), -(-len(jobs) // size)
        lie = state.list_lie
        if lie is not None:  # hostile: huge claimed size, a few records per page
            per = lie.records_per_page
            page = jobs[:per] if lie.fill == "repeat" else jobs[(current - 1) * per:current * per]
            total, pages = lie.pages * per, lie.pages
        return {"records": [j.list_record(now, self.id_key) for j in page], "total": total,
                "size": size, "current": current, "pages": pages,
                "orders": [], "optimizeCountSql": True, "searchCount": True,
                "countId": None, "maxLimit": None}

    async def detail(self, request: Request) -> object:
        state = self.state
        state.stats["detail"] += 1
        try:
            job_id = int(request.path_params["job_id"])
        except ValueError:
            raise _Reject(-22) from None
        job = state.jobs.get(job_id)
        if job is None or state.task_faults.get(job_id) is TaskFault.NOT_FOUND:
            raise _Reject(-24)
        return job.detail_record(state.clock.now(), self.id_key)

    def stop_jobs(self, ids: object, new_status: int) -> None:
        """Cancel/suspend: all or nothing, one code for the list (the API answers one).
        Unknown id -24; any task not waiting, submitting or calling -54 (finished, or
        already suspended: no transition out of 5 is documented)."""
        state = self.state
        if not isinstance(ids, list) or not ids or any(type(i) is not int for i in ids):
            raise _Reject(-22)
        now = state.clock.now()
        jobs = []
        for i in ids:
            job = state.jobs.get(i)
            if job is None:
                raise _Reject(-24)
            if job.status_at(now) not in STOPPABLE:
                raise _Reject(-54)
            jobs.append(job)
        for job in jobs:
            job.stopped_at, job.stopped_status = now, new_status
        state.stats[f"stopped{new_status}"] += len(jobs)
        state.invalidate()

    async def cancel(self, request: Request) -> object:
        self.state.stats["cancel"] += 1
        self.stop_jobs((await self.body_of(request)).get("taskIdList"), CANCELLED)
        return None

    async def provisional(self, request: Request) -> object:
        self.state.stats["provisional"] += 1
        self.stop_jobs((await self.body_of(request)).get("jobIdList"), SUSPENDED)
        return None

    async def send(self, request: Request) -> object:
        state = self.state
        body = await self.body_of(request)
        name, numbers, source = body.get("taskName"), body.get("numberList"), body.get("source")
        if not isinstance(body.get("appId"), str) or not isinstance(name, str) \
                or not 2 <= len(name) <= 64 or not isinstance(numbers, list) or not numbers \
                or len(numbers) > 200_000 or source not in (1, 2, 3):
            raise _Reject(-22)
        if any(not isinstance(n, str) or not n.isdigit() or not 7 <= len(n) <= 15
               for n in numbers):
            raise _Reject(-22)
        if source == 3 and not (isinstance(body.get("text"), str) and body.get("lan")):
            raise _Reject(-22)
        if source == 1 and not isinstance(body.get("voiceFileId"), str):
            raise _Reject(-22)
        if any(j.name == name for j in state.jobs.values()):
            raise _Reject(-20)
        now = state.clock.now()
        start = now + 5
        if body.get("sendTime") is not None:
            when = _parse_local(body.get("sendTime"))
            if when is None:
                raise _Reject(-22)
            start = max(start, when)
        job = state.add(SimJob(job_id=state.new_id(), name=name, created=now,
                               num_cnt=len(numbers), start=start, dial_rate=2.0,
                               answer_ratio=0.6, talk_seconds=20, app_id=body["appId"],
                               text=body.get("text") if source == 3 else None,
                               lan=body.get("lan") if source == 3 else None))
        return job.job_id

    async def balance(self, request: Request) -> object:
        state = self.state
        state.stats["balance"] += 1
        wallet = state.wallet
        if wallet.code:
            raise _Reject(wallet.code)
        amount = wallet.balance(state.jobs.values(), state.clock.now())
        # Strings with varying decimals, as documented.
        return {"balance": f"{amount:.6f}", "gift": f"{wallet.gift:.5f}",
                "credit": f"{wallet.credit:g}"}


def build_app(state: SimState) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The ASGI app: fault layer around the Starlette routes."""
    cfg = state.config
    prefix = cfg.brand.voice_prefix
    api = _Routes(state)
    routes = [
        Route(cfg.brand.balance_path, api.endpoint(api.balance, style="flat"),
              methods=["GET"]),
        Route(f"{prefix}/group/call/query", api.endpoint(api.query), methods=["POST"]),
        Route(f"{prefix}/group/call/detail/{{job_id}}", api.endpoint(api.detail),
              methods=["GET"]),
        Route(f"{prefix}/group/call/cancel", api.endpoint(api.cancel, as_string=True),
              methods=["POST"]),
        Route(f"{prefix}/group/call/provisional",
              api.endpoint(api.provisional, as_string=True), methods=["POST"]),
        Route(f"{prefix}/group/call/send", api.endpoint(api.send, style="status"),
              methods=["POST"]),
    ]
    if cfg.control:
        routes.append(Route("/_sim/{what}", control_endpoint(state), methods=["GET", "POST"]))
    return fault_layer(state, Starlette(routes=routes), f"{prefix}/group/call/detail/")
