"""The async, signed API client. The only module that imports httpx.

One long-lived ``httpx.AsyncClient`` per profile, explicit timeouts, a
concurrency cap below the pool size, backoff with jitter for transient faults
only, and clock-offset correction from the server's ``Date`` header on -16.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from callwatch.api.brands import DEFAULT_BRAND, Brand, normalize_base_url
from callwatch.api.convert import format_local_dt
from callwatch.api.models import (
    Job,
    JobState,
    Page,
    RecordMemo,
    parse_detail,
    parse_page,
    unwrap,
)
from callwatch.api.signing import signed_headers
from callwatch.api.types import Credentials, TimeWindow, mask_key
from callwatch.errors import (
    ApiTimeoutError,
    BadResponseError,
    CallwatchError,
    HttpStatusError,
    NetworkError,
    RateLimitedError,
    ServerInternalError,
    TimestampError,
    TransportError,
)

MAX_PAGE_SIZE = 100
# A Date header further off than this is a broken header, not a skewed clock
# (the AWS SDKs once "corrected" by 47 years).
_MAX_PLAUSIBLE_SKEW = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 5.0
    read: float = 10.0
    write: float = 5.0
    pool: float = 5.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3  # first try included
    base_delay: float = 0.5
    max_delay: float = 4.0
    # Everything (retries, backoff, re-signing) for one call ends within this budget.
    deadline: float = 25.0


class _Transient(Exception):
    """Internal: an attempt failed in a way worth retrying."""

    def __init__(self, error: CallwatchError) -> None:
        self.error = error


class ApiClient:
    """Signed access to one account. Create and close it inside the running loop."""

    def __init__(
        self,
        credentials: Credentials,
        brand: Brand = DEFAULT_BRAND,
        base_url: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts = Timeouts(),  # noqa: B008 - frozen dataclass
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008
        max_concurrency: int = 8,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.brand = brand
        self.base_url = normalize_base_url(base_url or brand.default_base_url)
        self._creds = credentials
        self._retry = retry
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._sem = asyncio.Semaphore(max_concurrency)
        # Unchanged list records are not parsed again (and yield the same Job object).
        self._records: RecordMemo = {}
        # Pool larger than the cap: callers queue on the semaphore, never on the pool
        # (a pool wait raises PoolTimeout, encode/httpx#1171).
        limits = httpx.Limits(max_connections=max_concurrency + 2,
                              max_keepalive_connections=max_concurrency)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(connect=timeouts.connect, read=timeouts.read,
                                  write=timeouts.write, pool=timeouts.pool),
            limits=limits,
            headers={"User-Agent": "callwatch"},
            follow_redirects=False,
        )
        self.clock_offset = 0.0  # server time minus local time, learnt from -16
        self.requests_sent = 0

    @property
    def api_key(self) -> str:
        return self._creds.api_key

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- endpoints -------------------------------------------------------------------

    async def detail(self, job_id: int) -> Job:
        path = f"{self.brand.voice_prefix}/group/call/detail/{int(job_id)}"
        return parse_detail(await self._call("GET", path))

    async def query(
        self,
        window: TimeWindow,
        states: Sequence[JobState] | None = None,
        page: int = 1,
        size: int = MAX_PAGE_SIZE,
        search: str | None = None,
    ) -> Page:
        params: dict[str, Any] = {
            "strTime": format_local_dt(window.start),
            "endTime": format_local_dt(window.end),
            "statusList": sorted(s.value for s in states or () if s is not JobState.UNKNOWN),
        }
        if search:
            params["searchCondition"] = search
        body = {"current": int(page), "size": int(size), "params": params}
        return parse_page(await self._call("POST", f"{self.brand.voice_prefix}/group/call/query",
                                           body), self._records)

    async def iter_query(
        self,
        window: TimeWindow,
        states: Sequence[JobState] | None = None,
        search: str | None = None,
        size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[Job]:
        """Every record of every page, in server order."""
        page_no = 1
        while True:
            page = await self.query(window, states, page_no, size, search)
            for job in page.records:
                yield job
            if not page.records or page_no >= page.pages:
                return
            page_no += 1

    async def cancel(self, job_ids: Sequence[int]) -> None:
        unwrap(await self._call("POST", f"{self.brand.voice_prefix}/group/call/cancel",
                                {"taskIdList": [int(j) for j in job_ids]}))

    async def suspend(self, job_ids: Sequence[int]) -> None:
        unwrap(await self._call("POST", f"{self.brand.voice_prefix}/group/call/provisional",
                                {"jobIdList": [int(j) for j in job_ids]}))

    # --- transport -------------------------------------------------------------------

    async def _call(self, method: str, path: str, body: object = None) -> object:
        """One API call with retries, returning the decoded JSON body."""
        policy = self._retry
        loop = asyncio.get_running_loop()
        deadline = loop.time() + policy.deadline
        resigned = False
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise self._deadline_error()
            try:
                async with self._sem:
                    async with asyncio.timeout(remaining):
                        return await self._attempt(method, path, body)
            except TimeoutError:
                raise self._deadline_error() from None
            except _SkewCorrected:
                if resigned:
                    raise TimestampError(
                        "timestamp still rejected after correcting the clock offset", -16
                    ) from None
                resigned = True
                attempt -= 1  # the re-signed request is not a retry of a fault
                continue
            except _Transient as t:
                error: CallwatchError = t.error
                if attempt >= policy.attempts:
                    raise error from None
            delay = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
            delay = delay * (0.5 + self._rng.random())  # jitter: 50%..150%
            if loop.time() + delay >= deadline:
                raise error
            await self._sleep(delay)

    def _deadline_error(self) -> ApiTimeoutError:
        return ApiTimeoutError(
            f"no answer from {self.base_url} within {self._retry.deadline:.0f} s (retries included)"
        )

    def now(self) -> float:
        return self._clock() + self.clock_offset

    async def _attempt(self, method: str, path: str, body: object) -> object:
        offset = self.clock_offset  # snapshot: other requests may update it meanwhile
        headers = signed_headers(self._creds.api_key, self._creds.secret,
                                 int(self._clock() + offset))
        content = None if body is None else json.dumps(body).encode()
        if self._http.is_closed:  # closed meanwhile (account switch, quitting): not retried
            raise NetworkError(f"the connection to {self.base_url} was closed by callwatch")
        self.requests_sent += 1
        try:
            resp = await self._http.request(method, path, headers=headers, content=content)
        except httpx.TimeoutException as exc:
            phase = {"ConnectTimeout": "connect", "ReadTimeout": "read", "WriteTimeout": "write",
                     "PoolTimeout": "pool"}.get(type(exc).__name__, "request")
            raise _Transient(ApiTimeoutError(
                f"no answer from {self.base_url} ({phase} timeout)")) from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError,
                httpx.WriteError, httpx.NetworkError) as exc:
            raise _Transient(NetworkError(_network_message(exc, self.base_url))) from None
        except httpx.HTTPError as exc:
            raise _Transient(NetworkError(f"HTTP failure: {type(exc).__name__}")) from None

        if resp.status_code != 200:
            if resp.status_code == 429:
                raise RateLimitedError("rate limited by the API (HTTP 429)", -15)
            err = HttpStatusError(
                f"HTTP {resp.status_code} {resp.reason_phrase or ''} from the API".strip(),
                resp.status_code,
            )
            if resp.status_code >= 500:
                raise _Transient(err)
            raise err
        try:
            decoded = json.loads(resp.content)
        except (ValueError, RecursionError):
            raise _Transient(BadResponseError(
                f"the API answered with a body that is not JSON ({len(resp.content)} bytes)"
            )) from None
        try:
            unwrap(decoded)
        except TimestampError:
            if self._learn_offset(resp, offset):
                raise _SkewCorrected() from None
            raise
        except ServerInternalError as exc:
            raise _Transient(exc) from None
        except CallwatchError:
            pass  # the endpoint parser raises it again with the same type
        return decoded

    def _learn_offset(self, resp: httpx.Response, used_offset: float) -> bool:
        """Take the clock offset from ``Date``; True when it changed enough to retry."""
        date = resp.headers.get("date")
        if not date or "age" in resp.headers:
            return False
        try:
            server = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        offset = server - self._clock()
        if not math.isfinite(offset) or abs(offset) > _MAX_PLAUSIBLE_SKEW:
            return False
        if abs(offset - used_offset) < 2.0:
            return False  # the offset was already right: re-signing would not help
        self.clock_offset = offset
        return True


class _SkewCorrected(Exception):
    pass


def _network_message(exc: Exception, base_url: str) -> str:
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {base_url} (refused or unreachable)"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"connection to {base_url} dropped mid-response"
    return f"network error talking to {base_url} ({type(exc).__name__})"


__all__ = [
    "ApiClient",
    "Credentials",
    "RetryPolicy",
    "TimeWindow",
    "Timeouts",
    "TransportError",
    "mask_key",
]
