"""The monitor: refresh cycles, per-task views and problems. Every task stands alone:
each answer (a list page, a detail) is applied the moment it arrives and handed upward
as an :class:`Update`; a slow, hanging or failing request holds back only its tasks, and
a task whose request is out is not asked again. Cycles start an interval apart and do
not wait for stragglers. No widgets: it drives the TUI, ``wait``, alerts and the exporter.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from callwatch.api.client import ApiClient
from callwatch.api.models import Job
from callwatch.errors import AuthError, CallwatchError, IpDeniedError, NotFoundError
from callwatch.monitor.balance import BalancePoller
from callwatch.monitor.events import EventDetector
from callwatch.monitor.listing import ListPass
from callwatch.monitor.planner import Plan, plan_cycle
from callwatch.monitor.problems import (
    ACCOUNT_ERRORS,
    AccountProblems,
    Problem,
    failing_problem,
    internal_problem,
    problem_for,
    skew_problem,
)
from callwatch.monitor.views import TaskState, TaskView, Update
from callwatch.monitor.watchlist import WatchList

log = logging.getLogger(__name__)

MIN_INTERVAL = 1.0
MAX_INTERVAL = 3600.0
LIST_WINDOW_DAYS = 30.0
REQUEST_DEADLINE_MIN = 8.0  # s: under this, slow-but-working APIs would time out
SKEW_NOTICE = 2.0  # seconds of corrected clock offset worth telling the operator

OnUpdate = Callable[[Update], None]


class Monitor(WatchList):
    def __init__(
        self,
        client: ApiClient,
        *,
        interval: float = 5.0,
        all_active: bool = False,
        clock: Callable[[], float] = time.monotonic,
        list_window_days: float = LIST_WINDOW_DAYS,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(clock)
        self.client = client
        self.all_active = all_active
        self._rng = rng or random.Random()
        self._interval = self.clamp_interval(interval)
        self._account = AccountProblems()
        self._auth_suspect = False
        self._list = ListPass(self, list_window_days)
        self.blocked = False  # auth/IP failure confirmed: no requests until refresh_now()
        self.paused = False
        self.auth_advice: str | None = None  # what the auth banner says to check
        self.paused_at: float | None = None
        self.last_success: float | None = None  # monotonic time of the last good answer
        self.cycles = 0  # cycles whose requests have all ended
        self._wake = asyncio.Event()
        self._cycle_wanted = False  # refresh_now(): the next cycle at once
        self._stopping = False
        self._on_update: OnUpdate | None = None
        self._collected: list[Update] | None = None  # run_cycle() gathers updates here
        self._running: set[asyncio.Task[Any]] = set()
        self._sent = 0  # requests counted into updates so far
        self.events: EventDetector | None = None  # alert events (monitor/events.py)
        self.balance: BalancePoller | None = None  # the account balance, once a minute

    # --- timing ---------------------------------------------------------------------

    @staticmethod
    def clamp_interval(seconds: float) -> float:
        if not math.isfinite(seconds):
            return 5.0
        return max(MIN_INTERVAL, min(MAX_INTERVAL, seconds))

    @property
    def interval(self) -> float:
        return self._interval

    @interval.setter
    def interval(self, seconds: float) -> None:
        self._interval = self.clamp_interval(seconds)
        self._wake.set()  # the wait for the next cycle is timed again (no cycle now)

    @property
    def request_deadline(self) -> float:
        """A monitor request's whole budget, retries included: a hanging task says so
        within a few intervals, not after the client's 25 s."""
        return max(REQUEST_DEADLINE_MIN, 2 * self.effective_interval)

    @property
    def backoff(self) -> float:
        return self._account.backoff

    @property
    def effective_interval(self) -> float:
        return min(MAX_INTERVAL, self._interval * self._account.backoff)

    @property
    def unreachable(self) -> bool:
        """The API cannot be reached (or refuses us): every value shown is stale."""
        return bool({"network", "auth", "ip_denied", "timestamp"} & self._account.kinds.keys())

    @property
    def problems(self) -> tuple[Problem, ...]:
        kinds = dict(self._account.kinds)
        offset = self.client.clock_offset
        if abs(offset) >= SKEW_NOTICE and "timestamp" not in kinds:
            kinds["clock_skew"] = skew_problem(offset)
        if self._failing:
            first = min(self._failing)
            issue = self._tasks[first].view.issue
            word = issue.word if issue is not None else "error"
            kinds["tasks"] = failing_problem(len(self._failing), f"#{first} {word}")
        return tuple(kinds.values())

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.paused_at = self._clock() if paused else None
        if not paused:
            self.refresh_now()

    def refresh_now(self) -> None:
        """Ask for a cycle at once (every task, backoffs lifted); also lifts an
        authentication block (one probe first)."""
        if self.blocked:
            self.blocked = False
            self._auth_suspect = True
        self._list.retry_now()
        for task in self._tasks.values():
            task.retry_at = 0.0
            if task.view.missing:
                task.view = TaskView(task.view.job_id, task.view.job)
        self._cycle_wanted = True
        self._wake.set()

    def fetch_detail(self, job_id: int) -> None:
        """One detail GET for a task (the cursor stopped on it), unless one is out."""
        task = self._tasks.get(job_id)
        if task is None or self.blocked or self.paused or self._stopping:
            return
        task.retry_at = 0.0
        self._spawn(self._detail(job_id))

    def set_client(self, client: ApiClient) -> None:
        """Switch account (profile switch or new login): problems and blocks reset."""
        self.client = client
        self.blocked = False
        self._auth_suspect = False
        self._account.reset()
        self._list.reset()
        self.memo = {}
        self._sent = client.requests_sent
        self._cycle_wanted = True
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        for task in list(self._running):
            task.cancel()

    # --- the loop -------------------------------------------------------------------

    async def run(self, on_update: OnUpdate) -> None:
        """Start a cycle every interval (start to start) until stopped; each answer
        reaches ``on_update`` as it is applied."""
        self._on_update = on_update
        loop = asyncio.get_running_loop()
        try:
            while not self._stopping:
                self._wake.clear()
                self._cycle_wanted = False
                started = loop.time()
                if not self.paused and not self.blocked:
                    self._spawn(self._cycle())
                elif self.blocked and self.events is not None:
                    self.events.tick(self, self._clock())  # a lasting block is an event
                await self._until_next(started)
        finally:
            self._on_update = None
            await self._cancel_running()

    async def _until_next(self, started: float) -> None:
        """Wait an interval from ``started``, or less when a cycle is asked for; a new
        interval (+/-, backoff) re-times the wait at once."""
        loop = asyncio.get_running_loop()
        while not self._stopping and not self._cycle_wanted:
            delay = started + self.effective_interval - loop.time()
            if delay <= 0:
                return
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                return
            self._wake.clear()

    async def run_cycle(self) -> Update:
        """One whole cycle, waiting for every request of it; the updates merged."""
        if self.blocked:
            return Update(self._clock(), (), (), (), self.problems, 0, ok=False, skipped=True)
        collected: list[Update] = []
        self._collected = collected
        try:
            await self._cycle()
        finally:
            self._collected = None
        return Update.merged(collected, self._clock(), self.problems)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _cancel_running(self) -> None:
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _cycle(self) -> None:
        """Plan and send one cycle's requests; never raises (failures become problems)."""
        cycle = self._account.cycle_start()
        client = self.client
        sent = client.requests_sent
        try:
            if self._auth_suspect:
                await self._probe()
            else:
                active = self._active_ids()
                plan = self.current_plan(active)
                jobs = [self._list.run(active)] if plan.use_list else []
                jobs += [self._detail(j) for j in plan.detail_ids]
                if self.balance is not None and self.balance.due(self, self._clock()):
                    jobs.append(self.balance.poll(self))
                await asyncio.gather(*jobs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a monitor must not die; the banner tells
            log.exception("refresh cycle failed")
            self._account.raise_(internal_problem(exc))
            self.publish((), ok=False)
        if self.client is client:
            self._account.cycle_end(cycle, self._interval, client.requests_sent > sent)
            self.cycles += 1
            if self.events is not None:
                self.events.tick(self, self._clock())
            self.publish(())  # the cycle's end may clear problems

    # --- planning and fetching ------------------------------------------------------

    def current_plan(self, active: list[int] | None = None) -> Plan:
        """This cycle's requests; ``active``: the unfinished watched ids, when known."""
        if active is None:
            active = self._active_ids()
        now = self._clock()
        sel = self._tasks.get(self._selected) if self._selected is not None else None
        selected_needs_detail = sel is not None and not sel.view.missing and not (
            sel.view.job is not None and sel.view.job.state.finished and sel.view.job.has_detail)
        plan = plan_cycle(
            active,
            selected=self._selected if sel is not None else None,
            selected_needs_detail=selected_needs_detail,
            detail_only=[jid for jid, t in self._tasks.items() if t.outside_list],
            account_active=self._list.account_active,
            discover=self.all_active,
        )
        # A task whose request is out, or that is backing off, is not asked again; a
        # failing one is asked again (alone) when its backoff ends.
        wanted = dict.fromkeys((*plan.detail_ids, *sorted(self._failing)))
        details = tuple(j for j in wanted if self._tasks[j].eligible(now))
        use_list = plan.use_list and not self._list.busy and self._list.due(now)
        return Plan(use_list, plan.expected_pages if use_list else 0, details)

    async def _detail(self, jid: int) -> None:
        task = self._tasks.get(jid)
        if task is None or not task.eligible(self._clock()):
            return
        client = self.client
        task.in_flight = True
        try:
            result: Job | CallwatchError = await client.detail(
                jid, deadline=self.request_deadline)
        except CallwatchError as exc:
            result = exc
        finally:
            task.in_flight = False
        if client is not self.client or self._tasks.get(jid) is not task:
            return  # switched account or unwatched meanwhile: not ours any more
        now = self._clock()
        if isinstance(result, CallwatchError):
            self._task_failed(task, result, now)
            return
        before = task.view.job
        changed = task.update(result, now)
        self._failing.discard(jid)
        self._good_answer(now)
        self.publish((task.view,) if changed else (), (jid,) if task.ended(before) else ())

    def _task_failed(self, task: TaskState, error: CallwatchError, now: float) -> None:
        jid = task.view.job_id
        if isinstance(error, NotFoundError):
            self._failing.discard(jid)
            changed = task.mark_missing(error.message, now)
            self.publish((task.view,) if changed else ())
            return
        if isinstance(error, ACCOUNT_ERRORS):
            self.account_error(error)  # the banner's, not the row's
            return
        task.fail(error, now, self.effective_interval, self._rng)
        self._failing.add(jid)
        self.publish((task.view,), ok=False)

    def account_error(self, error: CallwatchError) -> None:
        self._account.raise_(problem_for(error, self.auth_advice))
        if isinstance(error, AuthError | IpDeniedError) and not self.blocked:
            self._auth_suspect = True  # the next cycle sends one confirming request
        self.publish((), ok=False)

    def _good_answer(self, now: float) -> None:
        self.last_success = now
        self._account.clear("network")

    def apply_records(self, records: Iterable[Job], *, discovered: Iterable[int] = ()
                      ) -> None:
        """Apply one list page (the list pass calls this for each page it reads)."""
        now = self._clock()
        added = self.watch(discovered)
        changed, finished = self.apply(records, now)
        self._good_answer(now)
        self.publish(changed, finished, added)

    async def details(self, job_ids: Iterable[int]) -> None:
        await asyncio.gather(*(self._detail(j) for j in job_ids))

    def raise_problem(self, problem: Problem) -> None:
        self._account.raise_(problem)

    def clear_problem(self, kind: str) -> None:
        self._account.clear(kind)

    def publish(self, changed: Iterable[TaskView], finished: Iterable[int] = (),
                added: Iterable[int] = (), *, ok: bool = True) -> None:
        sent = self.client.requests_sent
        changed = tuple(changed)
        if self.events is not None and changed:
            self.events.feed(changed, self._clock())
        update = Update(self._clock(), changed, tuple(finished), tuple(added),
                        self.problems, sent - self._sent, ok)
        self._sent = sent
        if self._collected is not None:
            self._collected.append(update)
        if self._on_update is not None:
            try:
                self._on_update(update)
            except Exception as exc:  # the screen failed: the monitor goes on, and says so
                log.exception("applying an update failed")
                self._account.raise_(internal_problem(exc))

    async def _probe(self) -> None:
        """After an auth failure: exactly one request (the cheapest) before blocking."""
        try:
            await self._list.probe()
        except NotFoundError:
            pass
        except CallwatchError as exc:
            self._account.raise_(problem_for(exc, self.auth_advice))
            self.blocked = isinstance(exc, AuthError | IpDeniedError)
            self.publish((), ok=False)
            return
        self._good_answer(self._clock())
        self._auth_suspect = False
