"""The async, signed API client.

One long-lived connection pool per profile (``api/pool.py``; httpx only where a proxy
or a transport handed in needs it), explicit timeouts, a
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
from typing import TYPE_CHECKING, Any

from callwatch.api.brands import DEFAULT_BRAND, Brand, normalize_base_url
from callwatch.api.convert import format_local_dt
from callwatch.api.models import (
    Balance,
    Job,
    JobState,
    Page,
    RecordMemo,
    parse_balance,
    parse_detail_data,
    parse_page_data,
    unwrap,
)
from callwatch.api.pool import make_sender, network_message
from callwatch.api.signing import signed_headers
from callwatch.api.types import Credentials, TimeWindow, mask_key
from callwatch.api.wire import Reply, WireError, WireTimeout
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

if TYPE_CHECKING:
    from httpx import AsyncBaseTransport

MAX_PAGE_SIZE = 100
MAX_LIST_PAGES = 1000  # one list run reads at most 100,000 records
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


@dataclass(frozen=True, slots=True)
class _Outcome:
    """One attempt, classified: ``data`` on success, else the error and what to do."""

    data: object = None
    error: CallwatchError | None = None
    retry: bool = False  # transient: worth another attempt
    resign: bool = False  # the clock offset was corrected: send again at once


def _retry(error: CallwatchError) -> _Outcome:
    return _Outcome(error=error, retry=True)


class ApiClient:
    """Signed access to one account. Create and close it inside the running loop."""

    def __init__(
        self,
        credentials: Credentials,
        brand: Brand = DEFAULT_BRAND,
        base_url: str | None = None,
        *,
        transport: AsyncBaseTransport | None = None,
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
        self._sender = make_sender(self.base_url, timeouts, max_concurrency,
                                   {"User-Agent": "callwatch"}, transport)
        self.clock_offset = 0.0  # server time minus local time, learnt from -16
        self.list_capped = False  # the last iter_query stopped at its page cap
        self.requests_sent = 0
        # A list page's last answer (bytes, data): an unchanged page is not decoded again.
        self._pages: dict[tuple[object, ...], tuple[bytes, object]] = {}
        # Told (endpoint, outcome: "ok" or an error kind, seconds) after each attempt.
        self.observer: Callable[[str, str, float], None] | None = None

    @property
    def api_key(self) -> str:
        return self._creds.api_key

    @property
    def is_closed(self) -> bool:
        return self._sender.is_closed

    async def aclose(self) -> None:
        await self._sender.aclose()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- endpoints -------------------------------------------------------------------

    async def detail(self, job_id: int, *, deadline: float | None = None) -> Job:
        """One task with every field. ``deadline``: seconds for the whole call, retries
        included (at most the policy's)."""
        path = f"{self.brand.voice_prefix}/group/call/detail/{int(job_id)}"
        return parse_detail_data(await self._call("GET", path, deadline=deadline))

    async def balance(self, *, deadline: float | None = None) -> Balance:
        """The account balance (flat envelope; the path follows the brand)."""
        return parse_balance(await self._call("GET", self.brand.balance_path,
                                              deadline=deadline))

    async def query(
        self,
        window: TimeWindow,
        states: Sequence[JobState] | None = None,
        page: int = 1,
        size: int = MAX_PAGE_SIZE,
        search: str | None = None,
        memo: RecordMemo | None = None,
        deadline: float | None = None,
    ) -> Page:
        """One page of the task list. ``memo``: the caller's parse cache (an unchanged
        record is not parsed again and yields the same Job)."""
        params: dict[str, Any] = {
            "strTime": format_local_dt(window.start),
            "endTime": format_local_dt(window.end),
            "statusList": sorted(s.value for s in states or () if s is not JobState.UNKNOWN),
        }
        if search:
            params["searchCondition"] = search
        body = {"current": int(page), "size": int(size), "params": params}
        return parse_page_data(await self._call(
            "POST", f"{self.brand.voice_prefix}/group/call/query", body, deadline=deadline),
            memo)

    async def iter_query(
        self,
        window: TimeWindow,
        states: Sequence[JobState] | None = None,
        search: str | None = None,
        size: int = MAX_PAGE_SIZE,
        max_pages: int = MAX_LIST_PAGES,
    ) -> AsyncIterator[Job]:
        """Every record of every page, in server order, bounded whatever the server
        claims: it ends at the first short or empty page, and after ``max_pages`` pages
        (then ``list_capped`` is True)."""
        self.list_capped = False
        page_no = 1
        while True:
            page = await self.query(window, states, page_no, size, search)
            for job in page.records[:size]:
                yield job
            if len(page.records) < size or page_no >= page.pages:
                return
            if page_no >= max_pages:
                self.list_capped = True
                return
            page_no += 1

    # The answer of cancel/provisional is one code for the whole list (``data`` is null):
    # success returns, a refusal raises (-54: a state that does not allow it, -24: no
    # such task). For a per-task outcome, send one id per call (callwatch.monitor.actions).

    async def cancel(self, job_ids: Sequence[int], *, deadline: float | None = None) -> None:
        """Cancel tasks (status 4)."""
        await self._call("POST", f"{self.brand.voice_prefix}/group/call/cancel",
                         {"taskIdList": [int(j) for j in job_ids]}, deadline=deadline)

    async def suspend(self, job_ids: Sequence[int], *, deadline: float | None = None) -> None:
        """The "provisional" call: most likely suspend (status 5); no resume is documented."""
        await self._call("POST", f"{self.brand.voice_prefix}/group/call/provisional",
                         {"jobIdList": [int(j) for j in job_ids]}, deadline=deadline)

    def redact(self, text: str) -> str:
        """``text`` without this account's API key or secret (a vendor message, or a
        proxy's error page, could echo what it was sent)."""
        for value in (self._creds.secret.reveal(), self._creds.api_key):
            if value:
                text = text.replace(value, "********")
        return text

    # --- transport -------------------------------------------------------------------

    async def _call(self, method: str, path: str, body: object = None, *,
                    deadline: float | None = None) -> object:
        """One API call with retries: the envelope's ``data``, or a typed error.

        One flat loop over classified attempts: transient faults are retried with
        backoff and jitter, a corrected clock is re-signed once, the rest raise."""
        policy = self._retry
        loop = asyncio.get_running_loop()
        budget = policy.deadline if deadline is None else min(deadline, policy.deadline)
        ends = loop.time() + budget
        resigned = False
        failures = 0
        while True:
            remaining = ends - loop.time()
            if remaining <= 0:
                raise self._deadline_error(budget)
            try:
                async with self._sem:
                    async with asyncio.timeout(remaining):
                        outcome = await self._observed(method, path, body)
            except TimeoutError:
                raise self._deadline_error(budget) from None
            if outcome.error is None:
                return outcome.data
            if outcome.resign:  # the re-signed request is not a retry of a fault
                if resigned:
                    raise TimestampError(
                        "timestamp still rejected after correcting the clock offset", -16)
                resigned = True
                continue
            failures += 1
            if not outcome.retry or failures >= policy.attempts:
                raise outcome.error
            delay = min(policy.max_delay, policy.base_delay * 2 ** (failures - 1))
            delay *= 0.5 + self._rng.random()  # jitter: 50%..150%
            if loop.time() + delay >= ends:
                raise outcome.error
            await self._sleep(delay)

    def _deadline_error(self, budget: float) -> ApiTimeoutError:
        return ApiTimeoutError(
            f"no answer from {self.base_url} within {budget:.0f} s (retries included)")

    def now(self) -> float:
        return self._clock() + self.clock_offset

    async def _observed(self, method: str, path: str, body: object) -> _Outcome:
        """``_attempt``, timed for the observer; one cut short by the deadline is a timeout."""
        if self.observer is None:
            return await self._attempt(method, path, body)
        started = time.monotonic()
        outcome = _Outcome(error=ApiTimeoutError("cut short"))
        try:
            outcome = await self._attempt(method, path, body)
            return outcome
        finally:
            endpoint = path.rstrip("/0123456789").rsplit("/", 1)[-1]  # no task id in it
            kind = "ok" if outcome.error is None else outcome.error.kind
            self.observer(endpoint, kind, time.monotonic() - started)

    async def _attempt(self, method: str, path: str, body: object) -> _Outcome:
        """Send once; classify the answer once (and unwrap the envelope)."""
        offset = self.clock_offset  # snapshot: other requests may update it meanwhile
        headers = signed_headers(self._creds.api_key, self._creds.secret,
                                 int(self._clock() + offset))
        content = None if body is None else json.dumps(body).encode()
        if self._sender.is_closed:  # closed meanwhile (account switch, quitting): not retried
            return _Outcome(error=NetworkError(
                f"the connection to {self.base_url} was closed by callwatch"))
        self.requests_sent += 1
        try:
            resp = await self._sender.send(method, path, headers, content)
        except WireTimeout as exc:
            return _retry(ApiTimeoutError(f"no answer from {self.base_url} ({exc.phase} timeout)"))
        except WireError as exc:
            if not exc.network:
                return _retry(NetworkError(f"HTTP failure: {exc.kind}"))
            return _retry(NetworkError(network_message(exc, self.base_url)))

        if resp.status_code != 200:
            if resp.status_code == 429:
                return _Outcome(error=RateLimitedError("rate limited by the API (HTTP 429)", -15))
            err = HttpStatusError(
                f"HTTP {resp.status_code} {resp.reason_phrase or ''} from the API".strip(),
                resp.status_code,
            )
            return _retry(err) if resp.status_code >= 500 else _Outcome(error=err)
        key = _page_key(path, body)
        if key is not None and (last := self._pages.get(key)) and last[0] == resp.content:
            return _Outcome(data=last[1])  # the very bytes of last time: nothing to decode
        try:
            decoded = json.loads(resp.content)
        except (ValueError, RecursionError):
            return _retry(BadResponseError(
                f"the API answered with a body that is not JSON ({len(resp.content)} bytes)"))
        try:
            data = unwrap(decoded)
            if key is not None:
                if len(self._pages) >= MAX_LIST_PAGES:
                    self._pages.clear()
                self._pages[key] = (resp.content, data)
            return _Outcome(data=data)
        except TimestampError as exc:
            return _Outcome(error=exc, resign=self._learn_offset(resp, offset))
        except ServerInternalError as exc:
            return _retry(exc)
        except CallwatchError as exc:
            return _Outcome(error=exc)

    def _learn_offset(self, resp: Reply, used_offset: float) -> bool:
        """Take the clock offset from ``Date``; True when it changed enough to retry."""
        date = resp.headers.get("date")
        if not date or "age" in resp.headers:
            return False
        from email.utils import parsedate_to_datetime  # only after a clock complaint

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


def _page_key(path: str, body: object) -> tuple[object, ...] | None:
    """Which list page a request asks for, its moving time window aside."""
    if not isinstance(body, dict) or "current" not in body:
        return None
    params = body.get("params") or {}
    return (path, body["current"], body.get("size"), str(params.get("statusList")),
            params.get("searchCondition"))


__all__ = [
    "ApiClient",
    "Credentials",
    "RetryPolicy",
    "TimeWindow",
    "Timeouts",
    "TransportError",
    "mask_key",
]
