"""The monitor: watch list, refresh cycles, per-task views and problems.

It decides what to ask and when and hands whole snapshots and diffs upward; it
never touches widgets. The same monitor drives the TUI and ``callwatch wait``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable

from callwatch.api.client import ApiClient
from callwatch.api.models import ACTIVE_STATES, Job, JobState
from callwatch.api.types import TimeWindow
from callwatch.errors import AuthError, CallwatchError, IpDeniedError, NotFoundError
from callwatch.monitor.history import eta_seconds
from callwatch.monitor.planner import PAGE_SIZE, Plan, plan_cycle
from callwatch.monitor.problems import Problem, internal_problem, problem_for, skew_problem
from callwatch.monitor.views import CycleResult, TaskState, TaskView, view_changed

log = logging.getLogger(__name__)

MIN_INTERVAL = 1.0
MAX_INTERVAL = 3600.0
MAX_BACKOFF = 16.0
LIST_WINDOW_DAYS = 30.0
SKEW_NOTICE = 2.0  # seconds of corrected clock offset worth telling the operator


class Monitor:
    def __init__(
        self,
        client: ApiClient,
        *,
        interval: float = 5.0,
        all_active: bool = False,
        clock: Callable[[], float] = time.monotonic,
        list_window_days: float = LIST_WINDOW_DAYS,
    ) -> None:
        self.client = client
        self.all_active = all_active
        self._clock = clock
        self._interval = self.clamp_interval(interval)
        self._tasks: dict[int, TaskState] = {}
        self._selected: int | None = None
        self._account_active: int | None = None
        self._problems: dict[str, Problem] = {}
        self._backoff = 1.0
        self._auth_suspect = False
        self.blocked = False  # auth/IP failure confirmed: no requests until refresh_now()
        self.paused = False
        self.last_success: float | None = None
        self.cycles = 0
        self._window_days = list_window_days
        self._wake = asyncio.Event()
        self._stopping = False

    # --- watch list -----------------------------------------------------------------

    @property
    def watched(self) -> list[int]:
        return list(self._tasks)

    @property
    def tasks(self) -> dict[int, TaskView]:
        return {jid: t.view for jid, t in self._tasks.items()}

    def view(self, job_id: int) -> TaskView | None:
        task = self._tasks.get(job_id)
        return task.view if task else None

    def watch(self, job_ids: Iterable[int]) -> list[int]:
        added = []
        for jid in job_ids:
            if jid not in self._tasks:
                self._tasks[jid] = TaskState(TaskView(jid))
                added.append(jid)
        return added

    def unwatch(self, job_ids: Iterable[int]) -> None:
        for jid in job_ids:
            self._tasks.pop(jid, None)
            if self._selected == jid:
                self._selected = None

    def select(self, job_id: int | None) -> None:
        self._selected = job_id

    @property
    def selected(self) -> int | None:
        return self._selected

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

    @property
    def backoff(self) -> float:
        return self._backoff

    @property
    def effective_interval(self) -> float:
        return min(MAX_INTERVAL, self._interval * self._backoff)

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(self._problems.values())

    def refresh_now(self) -> None:
        """Ask for a cycle at once; also lifts an authentication block (one probe)."""
        if self.blocked:
            self.blocked = False
            self._auth_suspect = True
        for task in self._tasks.values():
            if task.view.missing:
                task.view = TaskView(task.view.job_id)
        self._wake.set()

    def set_client(self, client: ApiClient) -> None:
        """Switch account (profile switch or new login): problems and blocks reset."""
        self.client = client
        self.blocked = False
        self._auth_suspect = False
        self._problems.clear()
        self._account_active = None
        self._backoff = 1.0
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    # --- the loop -------------------------------------------------------------------

    async def run(self, on_cycle: Callable[[CycleResult], Awaitable[None] | None]) -> None:
        """Cycle forever; the next cycle is scheduled when the last one ends."""
        while not self._stopping:
            self._wake.clear()
            if not self.paused and not self.blocked:
                result = await self.run_cycle()
                outcome = on_cycle(result)
                if outcome is not None:
                    await outcome
            if self._stopping:
                return
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.effective_interval)
            except TimeoutError:
                pass

    async def run_cycle(self) -> CycleResult:
        """One refresh. Never raises: failures become problems."""
        if self.blocked:
            return self._result([], [], [], 0, ok=False, skipped=True)
        before = {jid: t.view for jid, t in self._tasks.items()}
        was_finished = {jid for jid, v in before.items() if v.job and v.job.state.finished}
        client = self.client
        sent_before = client.requests_sent
        errors: list[CallwatchError] = []
        added: list[int] = []
        crash: Problem | None = None
        try:
            if self._auth_suspect:
                await self._probe(errors)
            else:
                added = await self._refresh(errors)
        except Exception as exc:  # a monitor must not die; the banner tells
            log.exception("refresh cycle failed")
            crash = internal_problem(exc)
        switched = self.client is not client
        if switched:
            # The account was switched mid-cycle: these errors were the old account's.
            errors.clear()
            crash = None
        self._update_problems(errors, crash)
        now = self._clock()
        changed = [t.view for jid, t in self._tasks.items() if view_changed(before.get(jid), t)]
        finished = [v.job_id for v in changed
                    if v.job and v.job.state.finished and v.job_id not in was_finished
                    and v.job_id in before and before[v.job_id].job is not None]
        ok = not errors and crash is None and not switched
        if ok:
            self.last_success = now
        self.cycles += 1
        return self._result(changed, finished, added, client.requests_sent - sent_before,
                            ok=ok)

    def _result(self, changed: list[TaskView], finished: list[int], added: list[int],
                requests: int, *, ok: bool, skipped: bool = False) -> CycleResult:
        return CycleResult(self._clock(), tuple(changed), tuple(finished), tuple(added),
                           self.problems, requests, ok, skipped)

    # --- planning and fetching ------------------------------------------------------

    def _active_ids(self) -> list[int]:
        return [jid for jid, t in self._tasks.items()
                if not t.view.missing and not (t.view.job and t.view.job.state.finished)]

    def current_plan(self) -> Plan:
        sel = self._tasks.get(self._selected) if self._selected is not None else None
        selected_needs_detail = sel is not None and not sel.view.missing and not (
            sel.view.job is not None and sel.view.job.state.finished and sel.view.job.has_detail)
        return plan_cycle(
            self._active_ids(),
            selected=self._selected if sel is not None else None,
            selected_needs_detail=selected_needs_detail,
            detail_only=[jid for jid, t in self._tasks.items() if t.outside_list],
            account_active=self._account_active,
            discover=self.all_active,
        )

    async def _refresh(self, errors: list[CallwatchError]) -> list[int]:
        plan = self.current_plan()
        added: list[int] = []
        details = set(plan.detail_ids)
        absent: set[int] = set()
        if plan.use_list:
            worth = 0 if self.all_active else len(self._active_ids())
            errors_before = len(errors)
            records, complete = await self._list_active(errors, worth)
            list_failed = len(errors) > errors_before
            if self.all_active and complete:
                added = self.watch(records)
            for jid, job in records.items():
                task = self._tasks.get(jid)
                if task is not None:
                    self._apply(jid, job)
                    task.outside_list = False
            if complete:
                # Active tasks a complete list does not return have finished, or were
                # created outside its window: one detail tells which.
                absent = {j for j in self._active_ids() if j not in records}
                details |= absent
            elif not list_failed:
                # Dearer to page than to ask each task: details for the rest.
                details |= {j for j in self._active_ids() if j not in records}
            # A list that failed is not replaced by one detail per task: against a
            # failing or rate-limiting API that is a storm. Those tasks keep their last
            # view this cycle; the banner shows the problem and the next cycle retries.
        await self._details(sorted(details), errors)
        for jid in absent:
            task = self._tasks.get(jid)
            if task is not None and task.view.job is not None and not task.view.job.state.finished:
                task.outside_list = True
        return added

    async def _list_active(self, errors: list[CallwatchError], worth: int
                           ) -> tuple[dict[int, Job], bool]:
        """Unfinished tasks of the account: page 1, then the other pages concurrently.

        Returns the records read and whether that is the complete list. Stops after
        page 1 when the rest would cost at least ``worth`` requests (0: no limit).
        """
        window = TimeWindow.last(self._window_days)  # ends a day ahead: skewed servers
        try:
            first = await self.client.query(window, ACTIVE_STATES, 1, PAGE_SIZE)
        except CallwatchError as exc:
            errors.append(exc)
            return {}, False
        self._account_active = first.total
        pages = [first]
        complete = True
        if first.pages > 1:
            if worth and first.pages - 1 >= worth:
                complete = False
            else:
                rest = await asyncio.gather(
                    *(self.client.query(window, ACTIVE_STATES, n, PAGE_SIZE)
                      for n in range(2, first.pages + 1)),
                    return_exceptions=True)
                for r in rest:
                    if isinstance(r, CallwatchError):
                        errors.append(r)
                        complete = False
                    elif isinstance(r, BaseException):
                        raise r
                    else:
                        pages.append(r)
        return {job.job_id: job for page in pages for job in page.records}, complete

    async def _details(self, job_ids: list[int], errors: list[CallwatchError]) -> None:
        if not job_ids:
            return
        results = await asyncio.gather(*(self.client.detail(j) for j in job_ids),
                                       return_exceptions=True)
        for jid, result in zip(job_ids, results, strict=True):
            task = self._tasks.get(jid)
            if task is None:
                continue
            if isinstance(result, NotFoundError):
                task.view = TaskView(jid, task.view.job, missing=True, error="not found (-24)")
            elif isinstance(result, CallwatchError):
                errors.append(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                self._apply(jid, result)

    def _apply(self, jid: int, job: Job) -> None:
        task = self._tasks[jid]
        old, same = task.view.job, job is task.last and task.view.error is None
        merged = job if old is None else old if same else old.merged(job)
        task.last = job
        task.history.add(self._clock(), merged.called, merged.progress)
        if same and old is not None and old.state is not JobState.CALLING:
            return  # the same record as last time: the view (and sparkline) stays
        per_min = task.history.throughput() if merged.state is JobState.CALLING else None
        remaining = (merged.num_cnt - (merged.called or 0)) if merged.num_cnt is not None else None
        task.view = TaskView(jid, merged, throughput=per_min, eta=eta_seconds(remaining, per_min),
                             sparkline=task.history.progress_series())

    async def _probe(self, errors: list[CallwatchError]) -> None:
        """After an auth failure: exactly one request to confirm before blocking."""
        target = self._selected if self._selected in self._tasks else None
        if target is None and self._tasks:
            target = next(iter(self._tasks))
        try:
            if target is None:
                await self.client.query(TimeWindow.last(1), None, 1, 1)
            else:
                self._apply(target, await self.client.detail(target))
        except NotFoundError:
            self._auth_suspect = False
        except CallwatchError as exc:
            errors.append(exc)
            if isinstance(exc, AuthError | IpDeniedError):
                self.blocked = True
            return
        self._auth_suspect = False

    def _update_problems(self, errors: list[CallwatchError], crash: Problem | None) -> None:
        """This cycle's problems replace the last cycle's: a problem clears when gone."""
        kinds: dict[str, Problem] = {}
        for err in errors:
            p = problem_for(err)
            kinds.setdefault(p.kind, p)
        if crash is not None:
            kinds["internal"] = crash
        if any(isinstance(e, AuthError | IpDeniedError) for e in errors) and not self.blocked:
            self._auth_suspect = True  # the next cycle sends one confirming request
        if "rate_limited" in kinds:
            self._backoff = min(MAX_BACKOFF, self._backoff * 2)
            p = kinds["rate_limited"]
            kinds["rate_limited"] = Problem(
                p.kind, p.level,
                f"Rate limited (-15): next refresh in {self.effective_interval:.0f} s "
                f"(backoff x{self._backoff:.0f})", p.fix)
        elif not errors:
            self._backoff = 1.0
        offset = self.client.clock_offset
        if abs(offset) >= SKEW_NOTICE and "timestamp" not in kinds:
            kinds["clock_skew"] = skew_problem(offset)
        self._problems = kinds
