"""One pass over the account's unfinished-task list, bounded whatever the server claims.

Pages are read a few at a time and each is applied the moment it arrives. The pass
stops at the first short or empty page, and never reads more pages than the watched
set can need (plus a margin) or, when discovering every active task, a fixed cap: a
server claiming 10^9 pages costs a handful of requests, not 10^9 coroutines.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from callwatch.api.client import TimeWindow
from callwatch.api.models import ACTIVE_STATES, Page
from callwatch.errors import CallwatchError
from callwatch.monitor.planner import PAGE_SIZE
from callwatch.monitor.problems import ACCOUNT_ERRORS, cap_problem, list_problem

if TYPE_CHECKING:
    from callwatch.monitor.core import Monitor

LIST_CONCURRENCY = 4  # pages in flight at once
MAX_DISCOVERY_PAGES = 200  # all-active: at most 20,000 tasks read per pass
LIST_MARGIN = 2  # pages beyond what the watched tasks can need
MAX_LIST_BACKOFF = 4  # x the interval, after repeated list failures


class ListPass:
    def __init__(self, monitor: Monitor, window_days: float) -> None:
        self._mon = monitor
        self._window_days = window_days
        self.account_active: int | None = None  # unfinished tasks at the last pass
        self.busy = False  # a pass is running: its pages are on their way
        self._failures = 0
        self._retry_at = 0.0

    def due(self, now: float) -> bool:
        return now >= self._retry_at

    def retry_now(self) -> None:
        self._retry_at = 0.0

    def reset(self) -> None:
        self.account_active = None
        self._failures = 0
        self._retry_at = 0.0

    async def probe(self) -> None:
        """The cheapest signed request there is (confirms credentials)."""
        await self._mon.client.query(TimeWindow.last(1), None, 1, 1)

    async def run(self, active: list[int]) -> None:
        self.busy = True
        try:
            await self._run(active)
        finally:
            self.busy = False

    async def _run(self, active: list[int]) -> None:
        mon = self._mon
        discover = mon.all_active
        # Dearer to page than to ask each task: stop after page 1 (0: no such limit).
        worth = 0 if discover else len(active)
        window = TimeWindow.last(self._window_days)  # ends a day ahead: skewed servers
        seen: set[int] = set()
        client = mon.client

        async def fetch(number: int) -> Page | None:
            try:
                page = await client.query(window, ACTIVE_STATES, number, PAGE_SIZE,
                                          memo=mon.memo, deadline=mon.request_deadline)
            except CallwatchError as exc:
                if client is mon.client:
                    self._failed(exc)
                return None
            if client is not mon.client:
                return None  # the account was switched meanwhile
            records = page.records[:PAGE_SIZE]  # a page is 100 records, whatever it holds
            ids = [j.job_id for j in records]
            seen.update(ids)
            mon.apply_records(records, discovered=ids if discover else ())
            return page

        first = await fetch(1)
        if first is None:
            return
        claimed = max(1, first.pages)
        cap = MAX_DISCOVERY_PAGES if discover else worth + LIST_MARGIN
        complete = len(first.records) < PAGE_SIZE or claimed == 1
        if not complete and not (worth and claimed - 1 >= worth):
            rest = await self._rest(fetch, min(claimed, cap), claimed)
            if rest is None:
                return  # a page failed: no detail storm; the next pass retries
            complete = rest
            if not complete and claimed > cap:
                mon.raise_problem(cap_problem(cap))
        self._failures, self._retry_at = 0, 0.0
        mon.clear_problem("list")
        self.account_active = len(seen) if complete else min(first.total, 10**9)
        # Usually none (one C-level pass says so); else in the watch list's order.
        missing = [] if seen.issuperset(active) else [j for j in active if j not in seen]
        if complete or (worth and claimed - 1 >= worth):
            # Active tasks a complete list does not return have finished, or were
            # created outside its window: one detail tells which.
            await mon.details(missing)
        if complete:
            mon.mark_outside_list(missing)

    async def _rest(self, fetch: _Fetch, last: int, claimed: int) -> bool | None:
        """Pages 2..last, a few at a time; True when a short page ended the list,
        None when a page failed."""
        number = 2
        while number <= last:
            wave = range(number, min(last, number + LIST_CONCURRENCY - 1) + 1)
            pages = await asyncio.gather(*(fetch(n) for n in wave))
            if any(p is None for p in pages):
                return None
            if any(len(p.records) < PAGE_SIZE for p in pages if p is not None):
                return True
            number = wave.stop
        return last >= claimed  # full pages up to the claimed end: complete

    def _failed(self, error: CallwatchError) -> None:
        mon = self._mon
        if isinstance(error, ACCOUNT_ERRORS):
            mon.account_error(error)  # the account's backoff governs
        else:
            # The list's own failures (5xx, bad reply, timeout): it backs off on its own.
            self._failures += 1
            stretch = min(MAX_LIST_BACKOFF, 2 ** (self._failures - 1)) - 1
            self._retry_at = mon.now() + 0.9 * stretch * mon.effective_interval
            mon.raise_problem(list_problem(error))
            mon.publish((), ok=False)


if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    _Fetch = Callable[[int], Awaitable[Page | None]]
